WWB1@ABCDEFGHIJKLMNOPQRSTUVW…C°ärˆz'ÚgÇ{ ‘ž›Ia¸ýR_&TÝ>
J>¥éÝÛC¹5‘ƒ±Œ2s‚¤`R?—
Ç