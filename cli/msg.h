/*
 * msg.h - every user-facing text of the `wegwijs` command, Dutch and English side by side.
 *
 * X(ID, dutch, english). Placeholders {1}, {2} and {3} are filled in by say*() in msg.c; no
 * text is ever used as a printf format. Each literal stays under the 4095 bytes C11
 * guarantees, which is why the help text is split into parts.
 */
#ifndef WW_CLI_MSG_H
#define WW_CLI_MSG_H

/* clang-format off */
#define CLI_MESSAGES(X)                                                                            \
    /* Help. */                                                                                    \
    X(M_HELP_1,                                                                                    \
      "Gebruik: wegwijs [--data MAP] [--lang nl|en] OPDRACHT [ARGUMENTEN]\n"                       \
      "\n"                                                                                         \
      "Wegwijs: dagelijkse challenges, reflecties en signalen voor stagegroepen in de zorg.\n"    \
      "Alles staat op dit apparaat, in de datamap: --data MAP, anders $WEGWIJS_HOME, anders\n"    \
      "$XDG_DATA_HOME/wegwijs, anders ~/.local/share/wegwijs. Taal: --lang of $WEGWIJS_LANG\n"     \
      "(nl of en). Id's en sleutels zijn hexadecimaal, datums JJJJ-MM-DD. Nederlandse en\n"      \
      "Engelse woorden voor waarden mogen allebei.\n"                                             \
      "\n"                                                                                         \
      "Apparaat\n"                                                                                 \
      "  init                        maak dit apparaat aan (als het er nog niet is), toon de sleutel\n" \
      "  id                          toon de sleutel van dit apparaat\n"                           \
      "\n"                                                                                         \
      "Groep en leden (coach)\n"                                                                   \
      "  group create NAAM [--tz ZONE] [--start DATUM] [--alias COACHNAAM] [--aggregator SLEUTEL]\n" \
      "  groups                      je groepen: id, naam, je rol, sleutelperiode\n"               \
      "  member add GROEP --role student|ouderejaars|coach --alias NAAM --device SLEUTEL\n"        \
      "             [--year 1..4] [--track bol|bbl]   (jaar: student 1, ouderejaars 3 als je niets kiest)\n" \
      "  member remove GROEP LID\n"                                                                \
      "  device add GROEP LID SLEUTEL\n"                                                           \
      "  members GROEP\n",                                                                         \
      "Usage: wegwijs [--data DIR] [--lang nl|en] COMMAND [ARGUMENTS]\n"                           \
      "\n"                                                                                         \
      "Wegwijs: daily challenges, reflections and signals for nursing internship groups.\n"        \
      "Everything lives on this device, in the data folder: --data DIR, else $WEGWIJS_HOME, else\n" \
      "$XDG_DATA_HOME/wegwijs, else ~/.local/share/wegwijs. Language: --lang or $WEGWIJS_LANG\n"   \
      "(nl or en). Ids and keys are hexadecimal, dates YYYY-MM-DD. Dutch and English words for\n" \
      "values are both accepted.\n"                                                               \
      "\n"                                                                                         \
      "Device\n"                                                                                   \
      "  init                        create this device (if it does not exist), print its key\n"   \
      "  id                          print this device's key\n"                                    \
      "\n"                                                                                         \
      "Group and members (coach)\n"                                                                \
      "  group create NAME [--tz ZONE] [--start DATE] [--alias COACHNAME] [--aggregator KEY]\n"    \
      "  groups                      your groups: id, name, your role, key epoch\n"                \
      "  member add GROUP --role student|senior|coach --alias NAME --device KEY\n"                 \
      "             [--year 1..4] [--track bol|bbl]   (year: student 1, senior 3 by default)\n"    \
      "  member remove GROUP MEMBER\n"                                                             \
      "  device add GROUP MEMBER KEY\n"                                                            \
      "  members GROUP\n")                                                                         \
    X(M_HELP_2,                                                                                    \
      "\n"                                                                                         \
      "De dag\n"                                                                                   \
      "  today GROEP                 datum, stageweek, challenge en klimaatvragen van vandaag\n"   \
      "  day GROEP DATUM             hetzelfde voor een andere dag\n"                              \
      "  dayoff GROEP [DATUM] [--undo]   markeer een dag als geen dienst (of weer niet)\n"         \
      "  library                     de challenges van de startbibliotheek\n"                     \
      "  challenge define GROEP --code C --title T --description D --canmeds 1..7|zorgverlener|...\n" \
      "             --weeks A-B [--assignment REF] [--signoff 0..3|werkbegeleider|...]\n"          \
      "  challenge schedule GROEP DATUM CODE\n"                                                    \
      "\n"                                                                                         \
      "Reflecteren (student, ouderejaars)\n"                                                       \
      "  reflect GROEP --status gedaan|deels|niet [--date DATUM] [--obstacle REDEN]...\n"          \
      "             [--obstacle-note T] [--situatie T] [--taak T] [--actie T] [--resultaat T]\n"  \
      "             [--reflectie T] [--share ik|groep|coach] [--draft] [--answer VRAAG=WAARDE]...\n" \
      "      REDEN: geen-gelegenheid, geen-tijd-begeleider, durfde-niet, paste-niet,\n"            \
      "             andere-taken, geen-dienst (alleen bij deels of niet)\n"                        \
      "      delen: zonder --share blijft de reflectie privé (ik)\n"                               \
      "      antwoord: K1=4, R7=nvt, ... (1 helemaal oneens .. 5 helemaal eens, of nvt)\n"         \
      "  reflections GROEP [LID]     reflecties: datum, lid, status, delen, gebeurtenis, tekst\n" \
      "  react GROEP GEBEURTENIS TEKST\n"                                                          \
      "  unreact GROEP REACTIE\n"                                                                 \
      "  reactions GROEP [GEBEURTENIS]\n",                                                         \
      "\n"                                                                                         \
      "The day\n"                                                                                  \
      "  today GROUP                 date, internship week, challenge and climate questions\n"     \
      "  day GROUP DATE              the same for another day\n"                                   \
      "  dayoff GROUP [DATE] [--undo]    mark a day as no shift (or undo that)\n"                  \
      "  library                     the starter library's challenges\n"                           \
      "  challenge define GROUP --code C --title T --description D --canmeds 1..7|care-provider|...\n" \
      "             --weeks A-B [--assignment REF] [--signoff 0..3|supervisor|...]\n"              \
      "  challenge schedule GROUP DATE CODE\n"                                                     \
      "\n"                                                                                         \
      "Reflecting (student, senior)\n"                                                             \
      "  reflect GROUP --status done|partly|not [--date DATE] [--obstacle REASON]...\n"            \
      "             [--obstacle-note T] [--situatie T] [--taak T] [--actie T] [--resultaat T]\n"  \
      "             [--reflectie T] [--share me|group|coach] [--draft] [--answer ITEM=VALUE]...\n" \
      "      REASON: no-chance, no-supervisor, did-not-dare, not-fitting, other-tasks,\n"          \
      "             absent (only with partly or not)\n"                                            \
      "      sharing: without --share the reflection stays private (me)\n"                         \
      "      answer: K1=4, R7=na, ... (1 strongly disagree .. 5 strongly agree, or na)\n"          \
      "  reflections GROUP [MEMBER]  reflections: date, member, status, sharing, event, text\n"    \
      "  react GROUP EVENT TEXT\n"                                                                 \
      "  unreact GROUP REACTION\n"                                                                \
      "  reactions GROUP [EVENT]\n")                                                               \
    X(M_HELP_3,                                                                                    \
      "\n"                                                                                         \
      "Signalen en aftekenen\n"                                                                    \
      "  signal raise GROEP --category werkdruk|begeleiding|sfeer|leren|welzijn|overig --text T\n" \
      "             [--concerns LID]   (toont de gebeurtenis-id)\n"                               \
      "  signal resolve GROEP GEBEURTENIS --state besproken|opgelost [--note T]   (coach)\n"       \
      "  signals GROEP\n"                                                                          \
      "  signoff GROEP LID CODE --level nooit|oefenen|voldoende|goed [--date DATUM] [--note T]\n"  \
      "  signoffs GROEP\n"                                                                         \
      "\n"                                                                                         \
      "Netwerk\n"                                                                                  \
      "  hub [--listen ADRES:POORT] [--closed]   draai de hub (standaard 127.0.0.1:7420)\n"         \
      "  sync ADRES:POORT [--group GROEP]... [--watch] [--listen ADRES:POORT] [--quiet]\n"        \
      "             [--verbose]   (--verbose: een regel per verbinding op stderr)\n"               \
      "                              synchroniseer met een hub of een ander apparaat\n"             \
      "\n"                                                                                         \
      "Gegevens\n"                                                                                 \
      "  export GROEP LID            alles wat dit apparaat over een lid weet, als JSON\n"         \
      "  erase GROEP LID             wis de teksten van een lid op alle apparaten\n"               \
      "  bundle export GROEP BESTAND zet de gebeurtenissen van een groep in een bestand\n"         \
      "  bundle import BESTAND       lees een bundel van een ander apparaat in\n"                  \
      "  demo                        rondleiding: vier apparaten in submappen van de datamap\n"    \
      "  help                        deze tekst\n"                                                 \
      "\n"                                                                                         \
      "Afsluitcode: 0 gelukt, 1 andere fout, 2 verkeerd gebruik, 3 ongeldige invoer,\n"           \
      "4 niet toegestaan, 5 niet gevonden, 6 conflict, 7 netwerkfout, 8 opslagfout.\n",            \
      "\n"                                                                                         \
      "Signals and sign-off\n"                                                                     \
      "  signal raise GROUP --category workload|guidance|safety|learning|wellbeing|other --text T\n" \
      "             [--concerns MEMBER]   (prints the event id)\n"                                 \
      "  signal resolve GROUP EVENT --state discussed|resolved [--note T]   (coach)\n"             \
      "  signals GROUP\n"                                                                          \
      "  signoff GROUP MEMBER CODE --level never|practising|sufficient|good [--date DATE] [--note T]\n" \
      "  signoffs GROUP\n"                                                                         \
      "\n"                                                                                         \
      "Network\n"                                                                                  \
      "  hub [--listen ADDR:PORT] [--closed]   run the hub (default 127.0.0.1:7420)\n"              \
      "  sync ADDR:PORT [--group GROUP]... [--watch] [--listen ADDR:PORT] [--quiet]\n"            \
      "             [--verbose]   (--verbose: one line per connection on stderr)\n"                \
      "                              sync with a hub or another device\n"                          \
      "\n"                                                                                         \
      "Data\n"                                                                                     \
      "  export GROUP MEMBER         everything this device knows about a member, as JSON\n"       \
      "  erase GROUP MEMBER          erase a member's texts on every device\n"                     \
      "  bundle export GROUP FILE    write a group's events to a file\n"                           \
      "  bundle import FILE          read a bundle from another device\n"                          \
      "  demo                        walkthrough: four devices in subfolders of the data folder\n" \
      "  help                        this text\n"                                                  \
      "\n"                                                                                         \
      "Exit status: 0 success, 1 other failure, 2 usage error, 3 invalid input,\n"                 \
      "4 not allowed, 5 not found, 6 conflict, 7 network failure, 8 store failure.\n")             \
                                                                                                   \
    /* Usage errors. */                                                                            \
    X(M_E_UNKNOWN_VERB, "onbekende opdracht '{1}'; zie 'wegwijs help'",                            \
      "unknown command '{1}'; see 'wegwijs help'")                                                 \
    X(M_E_UNKNOWN_SUB, "onbekende opdracht '{1} {2}'; zie 'wegwijs help'",                         \
      "unknown command '{1} {2}'; see 'wegwijs help'")                                             \
    X(M_E_MISSING_SUB, "'{1}' heeft een vervolg nodig: {2}; zie 'wegwijs help'",                    \
      "'{1}' needs a subcommand: {2}; see 'wegwijs help'")                                         \
    X(M_E_UNKNOWN_OPTION, "onbekende optie '{1}'; zie 'wegwijs help'",                             \
      "unknown option '{1}'; see 'wegwijs help'")                                                  \
    X(M_E_OPTION_VALUE, "optie '--{1}' heeft een waarde nodig", "option '--{1}' needs a value")    \
    X(M_E_OPTION_FLAG, "optie '--{1}' heeft geen waarde", "option '--{1}' takes no value")         \
    X(M_E_OPTION_TWICE, "optie '--{1}' staat er meer dan eens", "option '--{1}' is given twice")   \
    X(M_E_TOO_MANY_OPTIONS, "te veel opties", "too many options")                                  \
    X(M_E_TOO_MANY_ARGS, "te veel argumenten bij '{1}'; zie 'wegwijs help'",                       \
      "too many arguments for '{1}'; see 'wegwijs help'")                                          \
    X(M_E_TOO_FEW_ARGS, "te weinig argumenten bij '{1}'; zie 'wegwijs help'",                      \
      "too few arguments for '{1}'; see 'wegwijs help'")                                           \
    X(M_E_MISSING_OPTION, "optie '--{1}' ontbreekt; zie 'wegwijs help'",                           \
      "option '--{1}' is missing; see 'wegwijs help'")                                             \
    X(M_E_BAD_LANG, "onbekende taal '{1}' (kies nl of en)", "unknown language '{1}' (use nl or en)") \
    X(M_E_NO_DATA, "geen datamap: geef --data MAP of zet $WEGWIJS_HOME",                        \
      "no data folder: give --data DIR or set $WEGWIJS_HOME")                                      \
    X(M_E_EMPTY_DATA, "de datamap mag niet leeg zijn", "the data folder must not be empty")       \
    X(M_E_BAD_GROUP, "ongeldige groep-id '{1}' (verwacht 32 hexadecimale tekens)",                 \
      "invalid group id '{1}' (expected 32 hexadecimal digits)")                                   \
    X(M_E_BAD_MEMBER, "ongeldige lid-id '{1}' (verwacht 32 hexadecimale tekens)",                  \
      "invalid member id '{1}' (expected 32 hexadecimal digits)")                                  \
    X(M_E_BAD_KEY, "ongeldige apparaatsleutel '{1}' (verwacht 64 hexadecimale tekens)",            \
      "invalid device key '{1}' (expected 64 hexadecimal digits)")                                 \
    X(M_E_BAD_EVENT, "ongeldige gebeurtenis-id '{1}' (verwacht 64 hexadecimale tekens)",           \
      "invalid event id '{1}' (expected 64 hexadecimal digits)")                                   \
    X(M_E_BAD_DATE, "ongeldige datum '{1}' (verwacht een bestaande datum JJJJ-MM-DD)",             \
      "invalid date '{1}' (expected an existing date YYYY-MM-DD)")                                 \
    X(M_E_BAD_NUMBER, "ongeldige waarde '{1}' voor {2} (verwacht een geheel getal {3})",           \
      "invalid value '{1}' for {2} (expected a whole number {3})")                                 \
    X(M_E_BAD_WORD, "ongeldige waarde '{1}' voor {2} (kies uit: {3})",                             \
      "invalid value '{1}' for {2} (choose from: {3})")                                            \
    X(M_E_BAD_WEEKS, "ongeldige weken '{1}' (verwacht A-B met 1 <= A <= B <= 52)",                 \
      "invalid weeks '{1}' (expected A-B with 1 <= A <= B <= 52)")                                 \
    X(M_E_BAD_ANSWER, "ongeldig antwoord '{1}' (verwacht VRAAG=WAARDE, zoals K1=4 of R7=nvt)",     \
      "invalid answer '{1}' (expected ITEM=VALUE, such as K1=4 or R7=na)")                         \
    X(M_E_ANSWER_CONFLICT, "vraag {1} heeft twee verschillende antwoorden",                        \
      "item {1} has two different answers")                                                        \
    X(M_E_TOO_MANY_ANSWERS, "te veel klimaatantwoorden (hoogstens {1})",                           \
      "too many climate answers (at most {1})")                                                    \
    X(M_E_OBSTACLE_DONE, "obstakels horen bij status deels of niet, niet bij gedaan",              \
      "obstacles go with status partly or not, not with done")                                     \
    X(M_E_EMPTY_TEXT, "{1} mag niet leeg zijn", "{1} must not be empty")                           \
    X(M_E_BAD_TZ, "onbekende tijdzone '{1}'", "unknown time zone '{1}'")                           \
    X(M_HINT_ROLE, "student, ouderejaars, coach", "student, senior, coach")                        \
    X(M_HINT_TRACK, "bol, bbl", "bol, bbl")                                                        \
    X(M_HINT_STATUS, "gedaan, deels, niet", "done, partly, not")                                   \
    X(M_HINT_SHARE, "ik, groep, coach", "me, group, coach")                                        \
    X(M_HINT_OBSTACLE,                                                                             \
      "geen-gelegenheid, geen-tijd-begeleider, durfde-niet, paste-niet, andere-taken, geen-dienst", \
      "no-chance, no-supervisor, did-not-dare, not-fitting, other-tasks, absent")                  \
    X(M_HINT_CATEGORY, "werkdruk, begeleiding, sfeer, leren, welzijn, overig",                     \
      "workload, guidance, safety, learning, wellbeing, other")                                    \
    X(M_HINT_SIGNAL_STATE, "besproken, opgelost", "discussed, resolved")                           \
    X(M_HINT_LEVEL, "nooit, oefenen, voldoende, goed", "never, practising, sufficient, good")      \
    X(M_HINT_CANMEDS,                                                                              \
      "1..7, zorgverlener, communicator, samenwerkingspartner, reflectieve-professional, "         \
      "gezondheidsbevorderaar, organisator, professional",                                         \
      "1..7, care-provider, communicator, collaborator, reflective-professional, health-promoter, " \
      "organiser, professional")                                                                   \
    X(M_HINT_SIGNOFF_ROLE, "0..3, geen, werkbegeleider, praktijkopleider, studentcoach",           \
      "0..3, none, supervisor, practice-educator, coach")                                          \
                                                                                                   \
    /* Operation failures. */                                                                      \
    X(M_E_NO_DEVICE, "geen apparaat in '{1}'; maak het eerst aan met 'wegwijs init'",              \
      "no device in '{1}'; create it first with 'wegwijs init'")                                   \
    X(M_E_OPEN, "kan apparaat in '{1}' niet openen", "cannot open the device in '{1}'")            \
    X(M_E_GROUP_UNKNOWN, "onbekende groep {1}; 'wegwijs groups' toont je groepen",                  \
      "unknown group {1}; 'wegwijs groups' lists your groups")                                     \
    X(M_E_GROUP_READ, "kan groep {1} niet lezen", "cannot read group {1}")                         \
    X(M_E_GROUP_CREATE, "groep aanmaken mislukt", "cannot create the group")                       \
    X(M_E_GROUPS, "groepen lezen mislukt", "cannot list the groups")                               \
    X(M_E_MEMBER_ADD, "lid toevoegen mislukt", "cannot add the member")                            \
    X(M_E_MEMBER_REMOVE, "lid verwijderen mislukt", "cannot remove the member")                    \
    X(M_E_DEVICE_ADD, "apparaat toevoegen mislukt", "cannot add the device")                       \
    X(M_E_MEMBERS, "leden lezen mislukt", "cannot list the members")                               \
    X(M_E_TODAY, "de datum van vandaag bepalen mislukt", "cannot determine today's date")          \
    X(M_E_DAY, "de dag lezen mislukt", "cannot read the day")                                      \
    X(M_E_DAY_OFF, "geen dienst markeren mislukt", "cannot mark the day")                          \
    X(M_E_CHALLENGE_DEFINE, "challenge vastleggen mislukt", "cannot define the challenge")         \
    X(M_E_CHALLENGE_SCHEDULE, "challenge inplannen mislukt", "cannot schedule the challenge")      \
    X(M_E_REFLECT, "reflectie opslaan mislukt", "cannot save the reflection")                      \
    X(M_E_REFLECTIONS, "reflecties lezen mislukt", "cannot list the reflections")                  \
    X(M_E_REACT, "reageren mislukt", "cannot react")                                               \
    X(M_E_BAD_ADDR, "ongeldig adres {1}: gebruik IP:POORT, bijvoorbeeld 127.0.0.1:7420",           \
      "invalid address {1}: use IP:PORT, for example 127.0.0.1:7420")                              \
    X(M_E_NET, "netwerk starten mislukt", "cannot start the network")                              \
    X(M_E_LISTEN, "luisteren op {1} mislukt", "cannot listen on {1}")                              \
    X(M_E_SYNC, "synchroniseren met {1} mislukt", "cannot sync with {1}")                          \
    X(M_E_LISTEN_NEEDS_WATCH, "--listen kan alleen met --watch", "--listen needs --watch")         \
    X(M_E_TOO_MANY_GROUPS, "hoogstens 8 keer --group", "at most 8 times --group")                  \
    X(M_E_UNREACT, "reactie intrekken mislukt", "cannot withdraw the reaction")                    \
    X(M_E_REACTIONS, "reacties lezen mislukt", "cannot list the reactions")                        \
    X(M_E_SIGNAL_RAISE, "signaal afgeven mislukt", "cannot raise the signal")                      \
    X(M_E_SIGNAL_RESOLVE, "signaal afhandelen mislukt", "cannot resolve the signal")               \
    X(M_E_SIGNALS, "signalen lezen mislukt", "cannot list the signals")                            \
    X(M_E_SIGNOFF, "aftekenen mislukt", "cannot sign off")                                         \
    X(M_E_SIGNOFFS, "aftekeningen lezen mislukt", "cannot list the sign-offs")                     \
    X(M_E_EXPORT, "exporteren mislukt", "cannot export")                                           \
    X(M_E_ERASE, "wissen mislukt", "cannot erase")                                                 \
    X(M_HINT_TOO_BIG, "maak de tekst korter", "make the text shorter")                             \
    X(M_E_NO_MEMORY, "onvoldoende geheugen", "out of memory")                                      \
    X(M_E_WRITE_OUT, "schrijven naar de uitvoer mislukt", "cannot write the output")               \
                                                                                                   \
    /* Bundles. */                                                                                 \
    X(M_E_BUNDLE_OPEN, "kan bundel '{1}' niet openen: {2}", "cannot open bundle '{1}': {2}")       \
    X(M_E_BUNDLE_READ, "kan bundel '{1}' niet lezen: {2}", "cannot read bundle '{1}': {2}")        \
    X(M_E_BUNDLE_WRITE, "kan bundel '{1}' niet schrijven: {2}", "cannot write bundle '{1}': {2}")  \
    X(M_E_BUNDLE_NOT_FILE, "'{1}' is geen gewoon bestand", "'{1}' is not a regular file")          \
    X(M_E_BUNDLE_TOO_BIG, "bundel '{1}' is groter dan {2} MiB", "bundle '{1}' is larger than {2} MiB") \
    X(M_E_BUNDLE_MAGIC, "'{1}' is geen Wegwijs-bundel", "'{1}' is not a Wegwijs bundle")           \
    X(M_E_BUNDLE_LENGTH,                                                                           \
      "bundel '{1}' is beschadigd: gebeurtenis {2} heeft een ongeldige lengte ({3} bytes)",        \
      "bundle '{1}' is damaged: event {2} has an invalid length ({3} bytes)")                      \
    X(M_E_BUNDLE_TRUNCATED,                                                                        \
      "bundel '{1}' is afgebroken: gebeurtenis {2} loopt door na het einde van het bestand",       \
      "bundle '{1}' is truncated: event {2} runs past the end of the file")                        \
    X(M_E_BUNDLE_CHANGED, "bundel '{1}' veranderde tijdens het inlezen",                           \
      "bundle '{1}' changed while it was read")                                                    \
    X(M_E_BUNDLE_GROUP_TOO_BIG, "de groep past niet in een bundel van {1} MiB",                    \
      "the group does not fit in a bundle of {1} MiB")                                             \
    X(M_E_BUNDLE_EXPORT, "bundel maken mislukt", "cannot make the bundle")                         \
    X(M_E_BUNDLE_APPLY, "bundel inlezen mislukt", "cannot import the bundle")                      \
    X(M_E_BUNDLE_REJECTED, "{1} gebeurtenis(sen) geweigerd: {2}", "{1} event(s) rejected: {2}")    \
    X(M_E_BUNDLE_FORKED, "{1} gebeurtenis(sen) in strijd met wat dit apparaat al heeft",           \
      "{1} event(s) conflict with what this device already holds")                                 \
    X(M_BUNDLE_WRITTEN, "{1} gebeurtenissen geschreven naar {2}", "{1} events written to {2}")     \
    X(M_BUNDLE_READ, "{1} gebeurtenissen gelezen uit {2}", "{1} events read from {2}")             \
    X(M_L_ACCEPTED, "nieuw", "accepted")                                                           \
    X(M_L_DUPLICATES, "al aanwezig", "duplicates")                                                 \
    X(M_L_DEFERRED, "wachtend", "deferred")                                                        \
    X(M_L_REJECTED, "geweigerd", "rejected")                                                       \
    X(M_L_FORKS, "in strijd", "forks")                                                             \
    X(M_L_FIRST_ERROR, "eerste fout", "first error")                                               \
                                                                                                   \
    /* Confirmations. */                                                                           \
    X(M_OK_MEMBER_REMOVED, "lid {1} verwijderd; nieuwe sleutelperiode gestart",                    \
      "member {1} removed; a new key epoch has started")                                           \
    X(M_OK_DEVICE_ADDED, "apparaat toegevoegd aan lid {1}", "device added to member {1}")          \
    X(M_OK_DAY_OFF, "{1} staat als geen dienst", "{1} is marked as no shift")                      \
    X(M_OK_DAY_ON, "{1} staat niet meer als geen dienst", "{1} is no longer marked as no shift")   \
    X(M_OK_CHALLENGE_DEFINED, "challenge {1} vastgelegd", "challenge {1} defined")                 \
    X(M_OK_CHALLENGE_SCHEDULED, "challenge {1} ingepland op {2}", "challenge {1} scheduled on {2}") \
    X(M_OK_REFLECTED, "reflectie voor {1} opgeslagen ({2})", "reflection for {1} saved ({2})")     \
    X(M_OK_REFLECTED_DRAFT, "concept voor {1} opgeslagen ({2})", "draft for {1} saved ({2})")      \
    X(M_OK_REACTED, "reactie geplaatst", "reaction posted")                                        \
    X(M_OK_HUB, "hub luistert op {1}; sleutel van de hub: {2}",                                   \
      "hub listening on {1}; the hub's key: {2}")                                                  \
    X(M_OK_SYNCED, "gesynchroniseerd met {1}: {2} verstuurd, {3} ontvangen",                       \
      "synced with {1}: {2} sent, {3} received")                                                   \
    X(M_OK_UNREACTED, "reactie ingetrokken", "reaction withdrawn")                                 \
    X(M_OK_SIGNAL_RESOLVED, "signaal staat op '{1}'", "signal set to '{1}'")                       \
    X(M_OK_SIGNED_OFF, "{1} afgetekend voor {2}: {3}", "{1} signed off for {2}: {3}")              \
    X(M_OK_ERASED, "de teksten van lid {1} worden op alle apparaten gewist",                       \
      "member {1}'s texts are being erased on every device")                                       \
                                                                                                   \
    /* Labels and list lines. */                                                                   \
    X(M_NONE_GROUPS, "(geen groepen)", "(no groups)")                                              \
    X(M_NONE_MEMBERS, "(geen leden)", "(no members)")                                              \
    X(M_NONE_REFLECTIONS, "(geen reflecties)", "(no reflections)")                                 \
    X(M_NONE_REACTIONS, "(geen reacties)", "(no reactions)")                                       \
    X(M_NONE_SIGNALS, "(geen signalen)", "(no signals)")                                           \
    X(M_NONE_SIGNOFFS, "(geen aftekeningen)", "(no sign-offs)")                                    \
    X(M_L_OWNER, "eigenaar", "owner")                                                              \
    X(M_L_NOT_MEMBER, "geen lid", "not a member")                                                  \
    X(M_L_EPOCH, "sleutelperiode", "key epoch")                                                    \
    X(M_L_START, "start", "start")                                                                 \
    X(M_L_YEAR, "jaar", "year")                                                                    \
    X(M_L_DEVICE, "apparaat", "device")                                                            \
    X(M_L_REMOVED, "verwijderd", "removed")                                                        \
    X(M_L_DATE, "Datum", "Date")                                                                   \
    X(M_L_WEEK, "stageweek", "internship week")                                                    \
    X(M_L_BEFORE_START, "voor de start van de stage", "before the internship starts")              \
    X(M_L_CHALLENGE, "Challenge", "Challenge")                                                     \
    X(M_L_CANMEDS, "CanMEDS-rol", "CanMEDS role")                                                  \
    X(M_L_SCHEDULED, "Ingepland door de coach", "Scheduled by the coach")                          \
    X(M_L_ASSIGNMENT, "Schoolopdracht", "School assignment")                                       \
    X(M_L_SIGNOFF_BY, "Aftekenen door", "Signed off by")                                           \
    X(M_L_DAY_OFF, "Geen dienst: je hebt deze dag als geen dienst gemarkeerd",                     \
      "No shift: you marked this day as no shift")                                                 \
    X(M_L_CLIMATE, "Klimaatvragen (1 helemaal oneens .. 5 helemaal eens, of nvt):",                \
      "Climate questions (1 strongly disagree .. 5 strongly agree, or na):")                       \
    X(M_L_WEEKS, "weken", "weeks")                                                                 \
    X(M_L_PRIVATE, "(privé)", "(private)")                                                         \
    X(M_L_DRAFT, "concept", "draft")                                                               \
    X(M_L_OBSTACLES, "obstakels", "obstacles")                                                     \
    X(M_L_NOTE, "notitie", "note")                                                                 \
    X(M_L_CLIMATE_ANSWERS, "klimaat", "climate")                                                   \
    X(M_L_STARR_S, "situatie", "situation")                                                       \
    X(M_L_STARR_T, "taak", "task")                                                                 \
    X(M_L_STARR_A, "actie", "action")                                                              \
    X(M_L_STARR_R, "resultaat", "result")                                                          \
    X(M_L_STARR_R2, "reflectie", "reflection")                                                     \
    X(M_L_CHALLENGE_CODE, "challenge", "challenge")                                                \
    X(M_L_TEXT, "de tekst", "the text")                                                            \
    X(M_L_FILE, "de bestandsnaam", "the file name")                                                \
    X(M_L_CODE, "de code", "the code")                                                             \
    X(M_L_ON, "op", "on")                                                                          \
    X(M_L_CONCERNS, "gaat over", "concerns")                                                       \
    X(M_YES, "ja", "yes")                                                                          \
    X(M_NO, "nee", "no")                                                                           \
    X(M_NA, "nvt", "na")                                                                           \
                                                                                                   \
    /* The demo. */                                                                                \
    X(M_DEMO_TITLE, "Wegwijs-rondleiding in {1}", "Wegwijs walkthrough in {1}")                    \
    X(M_DEMO_STEP, "\n== Stap {1}: ", "\n== Step {1}: ")                                     \
    X(M_DEMO_S_DEVICES, "vier apparaten", "four devices")                                          \
    X(M_DEMO_DEVICE, "{1}: apparaat {2} in {3}", "{1}: device {2} in {3}")                        \
    X(M_DEMO_S_GROUP, "de coach maakt de groep", "the coach creates the group")                    \
    X(M_DEMO_GROUP_NEW, "nieuwe groep '{1}': {2}", "new group '{1}': {2}")                         \
    X(M_DEMO_GROUP_OLD, "bestaande groep '{1}' van een vorige keer: {2}",                          \
      "existing group '{1}' from a previous run: {2}")                                             \
    X(M_DEMO_MEMBER_NEW, "lid toegevoegd: {1} ({2}), lid-id {3}",                                  \
      "member added: {1} ({2}), member id {3}")                                                    \
    X(M_DEMO_MEMBER_OLD, "al lid: {1} ({2}), lid-id {3}", "already a member: {1} ({2}), member id {3}") \
    X(M_DEMO_S_SYNC, "sync: de apparaten wisselen gebeurtenissen uit",                             \
      "sync: the devices exchange events")                                                         \
    X(M_DEMO_SYNC_PAIR, "{1} -> {2}: {3} nieuw", "{1} -> {2}: {3} new")                            \
    X(M_DEMO_S_TODAY, "{1} bekijkt de challenge van vandaag", "{1} looks at today's challenge")    \
    X(M_DEMO_S_REFLECT1, "{1} reflecteert en deelt met de groep",                                  \
      "{1} reflects and shares with the group")                                                    \
    X(M_DEMO_S_REFLECT2, "{1} schrijft een privé-reflectie", "{1} writes a private reflection")    \
    X(M_DEMO_S_SIGNAL, "{1} geeft een signaal af voor de coach", "{1} raises a signal for the coach") \
    X(M_DEMO_SIGNAL_NEW, "signaal afgegeven: {1}", "signal raised: {1}")                           \
    X(M_DEMO_SIGNAL_OLD, "dit signaal staat al open: {1}", "this signal is already open: {1}")     \
    X(M_DEMO_S_OVERVIEW, "de coach bekijkt de groep", "the coach looks at the group")              \
    X(M_DEMO_MEMBERS, "Leden:", "Members:")                                                        \
    X(M_DEMO_REFLECTED, "Reflecties van {1}:", "Reflections of {1}:")                              \
    X(M_DEMO_REFLECTED_YES, "  {1}: gereflecteerd ({2}, {3})", "  {1}: reflected ({2}, {3})")      \
    X(M_DEMO_REFLECTED_PRIV, "  {1}: gereflecteerd, maar privé", "  {1}: reflected, but privately") \
    X(M_DEMO_REFLECTED_NO, "  {1}: nog niet", "  {1}: not yet")                                    \
    X(M_DEMO_SIGNALS, "Signalen:", "Signals:")                                                     \
    X(M_DEMO_SIGNAL_LINE, "  {1} van {2} ({3})", "  {1} from {2} ({3})")                           \
    X(M_DEMO_S_SIGNOFF, "de coach reageert en tekent af", "the coach reacts and signs off")        \
    X(M_DEMO_REACTION, "reactie van de coach op de reflectie van {1}: {2}",                        \
      "the coach's reaction to {1}'s reflection: {2}")                                             \
    X(M_DEMO_REACTION_OLD, "de coach reageerde al eerder op de reflectie van {1}",                 \
      "the coach already reacted to {1}'s reflection")                                             \
    X(M_DEMO_SIGNOFF_OLD, "{2} is vandaag al afgetekend voor {1}",                                \
      "{2} already has today's sign-off for {1}")                                                  \
    X(M_DEMO_REFLECT_OLD, "{1} reflecteerde vandaag al ({2}):", "{1} already reflected today ({2}):") \
    X(M_DEMO_S_PRIVACY, "wat iedereen van de reflectie van {1} kan lezen",                         \
      "what everyone can read of {1}'s reflection")                                                \
    X(M_DEMO_CAN_READ, "  {1}: {2}", "  {1}: {2}")                                                 \
    X(M_DEMO_CANNOT_READ, "  {1}: {2} (geen sleutel voor deze tekst)",                             \
      "  {1}: {2} (no key for this text)")                                                         \
    X(M_DEMO_NOT_SEEN, "  {1}: (nog niet ontvangen)", "  {1}: (not received yet)")                 \
    X(M_DEMO_DONE,                                                                                 \
      "\nKlaar. Probeer zelf: wegwijs --data {1} groups  (of --data {2} today GROEP)",              \
      "\nDone. Try it yourself: wegwijs --data {1} groups  (or --data {2} today GROUP)")           \
    X(M_DEMO_FAILED, "rondleiding mislukt bij '{1}'", "walkthrough failed at '{1}'")               \
    X(M_DEMO_DATA, "kan de datamap '{1}' niet maken: {2}", "cannot create the data folder '{1}': {2}") \
    X(M_DEMO_R1_S, "Bij de overdracht hoorde ik twee afkortingen die ik niet kende.",              \
      "At the handover I heard two abbreviations I did not know.")                           \
    X(M_DEMO_R1_A, "Ik heb mijn werkbegeleider gevraagd wat ze betekenen.",                        \
      "I asked my supervisor what they mean.")                                     \
    X(M_DEMO_R1_R, "Het was even spannend, maar vragen stellen hoort erbij.",                      \
      "It felt a bit scary, but asking questions is part of learning.")                                   \
    X(M_DEMO_R2_S, "Ik vond de dienst zwaar en wil er eerst zelf over nadenken.",                  \
      "I found the shift hard and want to think about it by myself first.")                               \
    X(M_DEMO_SIGNAL_TEXT, "Op de late dienst is er vaak niemand die tijd heeft voor de studenten.", \
      "On the late shift there is often nobody with time for the students.")                    \
    X(M_DEMO_REACTION_TEXT, "Goed dat je het gewoon vroeg!", "Well done for simply asking!")      \
    X(M_DEMO_SIGNOFF_NOTE, "Stelde zelf een vraag bij de overdracht.",                             \
      "Asked a question at the handover on their own.")
/* clang-format on */

enum msg_id {
#define CLI_MSG_ENUM(id, nl, en) id,
    CLI_MESSAGES(CLI_MSG_ENUM)
#undef CLI_MSG_ENUM
        M_COUNT_
};

#endif
