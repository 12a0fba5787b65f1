/*
 * library.c - the starter challenge library, the daily rotation and the climate items.
 *
 * The starter challenges and the climate questions are our own Dutch wording. Every
 * challenge is small, safe and done under supervision (onder begeleiding), names no client
 * and needs no voorbehouden handeling. Codes W01.. are the introduction set (weeks 1-4),
 * L01.. the later set (week 5 up to week 52).
 *
 * Invariants (checked by tests/unit/test_library.c):
 *  - Codes are unique; every string is valid UTF-8 without control characters
 *    and within the limits of proto.h (code 16, title 120, description 600 bytes).
 *  - Every CanMEDS role appears; canmeds 1..7, 1 <= week_from <= week_to <= 52.
 *  - Everything here is a pure function of its arguments: each device computes the same
 *    challenge and the same questions for the same day.
 */
#include "library.h"

#include <string.h>

#include "day.h"

/* Short names for the roles, only for the table below. */
#define ZV WW_CANMEDS_ZV
#define CO WW_CANMEDS_CO
#define SW WW_CANMEDS_SW
#define RP WW_CANMEDS_RP
#define GB WW_CANMEDS_GB
#define OR WW_CANMEDS_OR
#define PK WW_CANMEDS_PK
#define WB WW_SIGNOFF_WERKBEGELEIDER

/* The week ranges overlap so that, with the starter library alone, no two consecutive days
 * get the same challenge, also where one week's set gives way to the next. */
static const struct ww_challenge starter[] = {
    /* From week 1: finding your way. */
    {"W01", "Wie werkt er vandaag?",
     "Zoek uit wie er in je dienst werken, wat hun functie is en bij wie je met welke vraag "
     "terechtkunt.",
     SW, 1, 2, "", 0},
    {"W02", "Waar ligt wat?",
     "Laat een collega je wijzen waar de alarmknop, de AED, de handschoenen en de "
     "overdrachtsmap te vinden zijn en schrijf het voor jezelf op.",
     OR, 1, 2, "", 0},
    {"W03", "Mijn vraag van vandaag",
     "Stel vandaag bewust minstens één vraag aan je werkbegeleider over iets wat je nog niet "
     "begrijpt.",
     RP, 1, 2, "", 0},
    {"W04", "Een eerste gesprek",
     "Maak onder begeleiding een kort praatje met een cliënt en ontdek één ding waar die "
     "persoon plezier in heeft, zonder een naam in de app te zetten.",
     CO, 1, 2, "", 0},
    {"W05", "Nieuwe woorden",
     "Noteer tijdens de overdracht twee vaktermen of afkortingen die nieuw voor je zijn en "
     "zoek op wat ze betekenen.",
     CO, 1, 2, "", 0},
    {"W06", "Schone handen",
     "Let een hele dienst op de momenten waarop je je handen hoort te wassen of te "
     "desinfecteren en houd bij hoe vaak dat lukte.",
     PK, 1, 2, "", 0},
    /* From week 2: joining in. */
    {"W07", "De dienst in stappen",
     "Beschrijf in je eigen woorden hoe een dienst op deze afdeling verloopt, van de "
     "overdracht tot het einde.",
     OR, 2, 3, "", 0},
    {"W08", "Wat mag ik al?",
     "Spreek met je werkbegeleider af welke taken je deze week zelf doet en bij welke je nog "
     "meekijkt.",
     SW, 2, 3, "", 0},
    {"W09", "Plan en praktijk",
     "Lees samen met een collega het zorgplan van één cliënt en vergelijk wat er staat met de "
     "zorg die je ziet.",
     ZV, 2, 3, "", 0},
    {"W10", "Zoals de cliënt het wil",
     "Vraag een cliënt voordat je helpt hoe die persoon het graag wil en stem je hulp daarop "
     "af.",
     ZV, 2, 3, "", 0},
    {"W11", "Meekijken en navertellen",
     "Kijk mee bij een handeling van een collega en vertel daarna welke stappen je zag en "
     "waarom ze in die volgorde gingen.",
     RP, 2, 3, "", 0},
    {"W12", "Eén observatie op papier",
     "Schrijf één feitelijke observatie op, dus wat je zag, hoorde of mat, en laat je "
     "werkbegeleider meelezen.",
     CO, 2, 4, "", WB},
    /* From week 3: taking small steps yourself. */
    {"W13", "Privacy bewaken",
     "Let op waar en hoe er over cliënten gesproken wordt en bedenk wat jij doet om hun "
     "privacy te beschermen.",
     PK, 3, 4, "", 0},
    {"W14", "Prettig aan tafel",
     "Help onder begeleiding bij een maaltijd en zoek één manier om eten en drinken voor een "
     "cliënt prettiger te maken.",
     GB, 3, 4, "", 0},
    {"W15", "Zelf laten doen",
     "Moedig een cliënt aan om een kleine handeling zelf te doen in plaats van die over te "
     "nemen, en kijk wat dat oplevert.",
     GB, 3, 4, "", 0},
    {"W16", "Om feedback vragen",
     "Vraag na een handeling die je onder begeleiding deed wat goed ging en wat je de "
     "volgende keer anders kunt doen.",
     RP, 3, 4, "", 0},
    {"W17", "Een hulpmiddel leren kennen",
     "Laat je uitleggen hoe een hulpmiddel zoals een tillift of douchestoel veilig werkt en "
     "oefen er onder begeleiding mee.",
     ZV, 3, 4, "", WB},
    /* In week 4: looking ahead. */
    {"W18", "Het team rond een cliënt",
     "Zoek uit welke disciplines bij één cliënt betrokken zijn en wat ieder van hen doet.", SW, 4,
     4, "", 0},
    {"W19", "Een leerdoel kiezen",
     "Stel samen met je werkbegeleider één concreet leerdoel op voor de komende weken.", RP, 4, 4,
     "", WB},
    {"W20", "Mijn dienst plannen",
     "Maak aan het begin van je dienst een korte planning en kijk aan het eind wat anders liep "
     "en waarom.",
     OR, 4, 4, "", 0},
    {"W21", "Twijfel hardop",
     "Benoem in een pauze of overleg één ding dat je opviel of waarover je twijfelt.", PK, 4, 4, "",
     0},
    /* Week 5 onwards. */
    {"L01", "Overdragen met SBAR",
     "Geef onder begeleiding een korte overdracht over een cliënt volgens SBAR en vraag hoe "
     "die overkwam.",
     CO, 5, 52, "", WB},
    {"L02", "Meten en bespreken",
     "Meet onder begeleiding de pols, bloeddruk of temperatuur van een cliënt en bespreek met "
     "je werkbegeleider wat de waarden zeggen.",
     ZV, 5, 52, "", WB},
    {"L03", "Anders dan gisteren",
     "Vergelijk hoe een cliënt er vandaag bij zit met eerdere dagen en bespreek een verandering "
     "die je opvalt met een collega.",
     ZV, 5, 52, "", 0},
    {"L04", "Oog voor de huid",
     "Let tijdens de verzorging op de huid en bespreek met een collega welke maatregelen tegen "
     "doorliggen nodig zijn.",
     GB, 5, 52, "", 0},
    {"L05", "Valrisico's zien",
     "Kijk in de kamer of woning van een cliënt naar wat een val kan veroorzaken en stel één "
     "verbetering voor.",
     GB, 5, 52, "", 0},
    {"L06", "Drinken en eten bijhouden",
     "Houd volgens de afspraken op de afdeling bij hoeveel een cliënt drinkt of eet en "
     "bespreek de uitkomst met een collega.",
     GB, 6, 52, "", 0},
    {"L07", "Het protocol ernaast",
     "Zoek voor een situatie van deze week het protocol of de richtlijn op en vergelijk die "
     "met wat je in de praktijk zag.",
     RP, 5, 52, "", 0},
    {"L08", "Waarom doen we het zo?",
     "Vraag een ervaren collega waarom een vaste werkwijze op de afdeling zo gaat en schrijf "
     "het antwoord op.",
     RP, 5, 52, "", 0},
    {"L09", "Tip en top",
     "Geef een medestudent opbouwende feedback op een handeling, met één tip en één top.", SW, 5,
     52, "", 0},
    {"L10", "Leren van een bijna-fout",
     "Bespreek met een collega een bijna-incident dat je zag of hoorde en ontdek hoe het team "
     "daarvan leert.",
     PK, 6, 52, "", 0},
    {"L11", "Een stukje van de dienst regelen",
     "Neem in overleg de coördinatie van een afgebakend deel van de dienst op je, zoals de "
     "koffieronde.",
     OR, 8, 52, "", WB},
    {"L12", "Wat gaat voor?",
     "Bespreek op een drukke dienst met je werkbegeleider welke taken voorgaan en waarom.", OR, 6,
     52, "", 0},
    {"L13", "Een activiteit op maat",
     "Bedenk samen met een collega een korte activiteit die past bij wat een cliënt graag doet "
     "en voer die uit.",
     GB, 5, 52, "", 0},
    {"L14", "Zelf kiezen",
     "Vraag een cliënt welke keuze die persoon vandaag zelf wil maken en help dat mogelijk te "
     "maken.",
     CO, 5, 52, "", 0},
    {"L15", "Een moeilijk gesprek",
     "Kijk mee bij een gesprek over iets moeilijks, of voer het samen met een collega, en let "
     "op wat helpt.",
     CO, 8, 52, "", 0},
    {"L16", "Aanschuiven bij het overleg",
     "Woon een team- of multidisciplinair overleg bij en vertel je groep wat jij daar zou "
     "kunnen inbrengen.",
     SW, 6, 52, "", 0},
    {"L17", "Meelopen met de medicijnronde",
     "Loop mee met de medicijnronde en leg daarna in je eigen woorden uit welke controles er "
     "worden gedaan.",
     PK, 8, 52, "", 0},
    {"L18", "Een klein verbeteridee",
     "Bedenk één klein verbeteridee voor de afdeling en bespreek het met je werkbegeleider of "
     "praktijkopleider.",
     PK, 5, 52, "", 0},
    {"L19", "Uitleggen aan een ander",
     "Leg een nieuwe student of iemand uit je groep een handeling uit die je inmiddels goed "
     "kent.",
     SW, 5, 52, "", 0},
    {"L20", "Terugblik op mijn leerdoel",
     "Kijk met je werkbegeleider terug op je leerdoel uit week 4: waar sta je nu en wat heb je "
     "nog nodig?",
     RP, 8, 52, "", 0},
    {"L21", "Techniek op de afdeling",
     "Ontdek hoe één zorgtechnologie, zoals een sensor of een app, hier gebruikt wordt en wat "
     "die cliënt en medewerker oplevert.",
     OR, 5, 52, "", 0},
    {"L22", "Vragen naar pijn",
     "Vraag onder begeleiding een cliënt naar pijn of ongemak en bespreek wat je hoorde met je "
     "werkbegeleider.",
     ZV, 6, 52, "", 0},
    {"L23", "Rapporteren op een doel",
     "Schrijf een rapportage die aansluit bij een doel uit het zorgplan en laat je "
     "werkbegeleider die nakijken.",
     CO, 6, 52, "", WB},
};

#undef ZV
#undef CO
#undef SW
#undef RP
#undef GB
#undef OR
#undef PK
#undef WB

size_t ww_library_count(void)
{
    return sizeof starter / sizeof starter[0];
}

const struct ww_challenge *ww_library_at(size_t i)
{
    return i < ww_library_count() ? &starter[i] : NULL;
}

const struct ww_challenge *ww_library_find(const char *code)
{
    if (!code)
        return NULL;
    for (size_t i = 0; i < ww_library_count(); i++)
        if (strcmp(starter[i].code, code) == 0)
            return &starter[i];
    return NULL;
}

/* ---- Rotation -------------------------------------------------------------------------- */

enum pick_rule { PICK_WEEK, PICK_INTRO, PICK_LATER, PICK_ALL };

static int chosen(const struct ww_challenge *c, enum pick_rule rule, int week)
{
    if (!c || !c->code)
        return 0;
    switch (rule) {
    case PICK_WEEK:
        return c->week_from <= week && week <= c->week_to;
    case PICK_INTRO:
        return c->week_from <= 4;
    case PICK_LATER:
        return c->week_from >= 5;
    case PICK_ALL:
        return 1;
    }
    return 0;
}

/* Orders candidates by code, then by their place in the array, so equal codes still have
 * one fixed order. */
static int before(const struct ww_challenge *const *c, size_t i, size_t j)
{
    int r = strcmp(c[i]->code, c[j]->code);
    return r < 0 || (r == 0 && i < j);
}

/*
 * Picks the k-th (0-based) chosen candidate in code order by counting, for each chosen
 * one, how many chosen ones come before it: no allocation, and quadratic only in the size
 * of a group's library, which is small.
 */
size_t ww_rotation_pick(const struct ww_challenge *const *c, size_t n, uint32_t start,
                        uint32_t date)
{
    if (n == 0 || !c)
        return n;
    int week = ww_date_week(start, date);
    if (week == 0)
        week = 1;
    static const enum pick_rule fallback_late[] = {PICK_WEEK, PICK_LATER, PICK_ALL};
    static const enum pick_rule fallback_intro[] = {PICK_WEEK, PICK_INTRO, PICK_ALL};
    const enum pick_rule *rules = week <= 4 ? fallback_intro : fallback_late;
    enum pick_rule rule = PICK_ALL;
    size_t count = 0;
    for (size_t r = 0; r < 3 && count == 0; r++) {
        rule = rules[r];
        for (size_t i = 0; i < n; i++)
            count += (size_t)chosen(c[i], rule, week);
    }
    if (count == 0)
        return n; /* every entry is NULL or has no code */
    int64_t offset = (int64_t)date - (int64_t)start;
    int64_t m = offset % (int64_t)count;
    size_t k = (size_t)(m < 0 ? m + (int64_t)count : m);
    for (size_t i = 0; i < n; i++) {
        if (!chosen(c[i], rule, week))
            continue;
        size_t rank = 0;
        for (size_t j = 0; j < n && rank <= k; j++)
            if (j != i && chosen(c[j], rule, week) && before(c, j, i))
                rank++;
        if (rank == k)
            return i;
    }
    return n; /* not reached: exactly one chosen candidate has rank k */
}

/* ---- Climate items --------------------------------------------------------------------- */

static const struct ww_climate_item climate_items[] = {
    {1, "K1", "Ik voelde me vandaag vrij om vragen te stellen, ook als ik iets nog niet wist.",
     "Today I felt free to ask questions, even when I did not know something yet.", WW_VERM_LEREND,
     WW_CLIMATE_VEILIG},
    {2, "K2", "Vandaag nam iemand de tijd om mij te helpen of iets uit te leggen.",
     "Today someone took the time to help me or to explain something.", WW_VERM_ABSORPTIE,
     WW_CLIMATE_FACILITEREND},
    {3, "R1", "Twijfels of fouten kon ik vandaag zonder zorgen bespreken.",
     "Today I could talk about doubts or mistakes without worrying.", WW_VERM_LEREND,
     WW_CLIMATE_VEILIG},
    {4, "R2", "Het was me vandaag duidelijk bij wie ik met mijn vragen terechtkon.",
     "Today it was clear to me whom I could go to with my questions.", WW_VERM_ABSORPTIE,
     WW_CLIMATE_FACILITEREND},
    {5, "R3", "Ik had vandaag tijd en ruimte voor mijn challenge of schoolopdracht.",
     "Today I had time and room for my challenge or school assignment.", WW_VERM_OPLEIDEND,
     WW_CLIMATE_FACILITEREND},
    {6, "R4", "Iemand gaf mij vandaag feedback op mijn werk.",
     "Someone gave me feedback on my work today.", WW_VERM_OPLEIDEND, WW_CLIMATE_FACILITEREND},
    {7, "R5", "Mijn werk van vandaag paste bij wat ik op school leer.",
     "My work today fitted with what I am learning at school.", WW_VERM_OPLEIDEND,
     WW_CLIMATE_FACILITEREND},
    {8, "R6", "Vandaag hoorde ik er echt bij in het team.", "Today I really belonged in the team.",
     WW_VERM_VERBINDEND, WW_CLIMATE_VEILIG},
    {9, "R7", "Collega's lieten mij vandaag meedoen met de overdracht of het overleg.",
     "Today colleagues included me in the handover or the team meeting.", WW_VERM_VERBINDEND,
     WW_CLIMATE_FACILITEREND},
    {10, "R8", "Wat ik opmerkte of voorstelde, werd vandaag serieus genomen.",
     "Today what I noticed or suggested was taken seriously.", WW_VERM_LEREND, WW_CLIMATE_VEILIG},
    {11, "R9", "Het werk liet vandaag genoeg ruimte om te leren.",
     "Today the work left enough room to learn.", WW_VERM_ABSORPTIE, WW_CLIMATE_FACILITEREND},
    {12, "R10", "Ik kijk uit naar mijn volgende dienst.", "I look forward to my next shift.",
     WW_VERM_VERBINDEND, WW_CLIMATE_OUTCOME},
};

#define ITEM_K1  1
#define ITEM_K2  2
#define ITEM_R10 12
#define FRIDAY   5

const struct ww_climate_item *ww_climate_item_get(uint8_t item)
{
    if (item < 1 || item > sizeof climate_items / sizeof climate_items[0])
        return NULL;
    return &climate_items[item - 1];
}

/*
 * K1 and K2 every day; one rotating item that advances by one per date, from the
 * settling-in set (R2, R6, R7) in weeks 1-4 and from the rest (R1, R3, R4, R5, R8, R9)
 * later; R10 on Fridays. The choice depends on the date and week only, so the whole team
 * answers the same items, and the items come out in ascending order as climate.put wants.
 */
size_t ww_climate_items_for(int week, uint32_t date, uint8_t out[4])
{
    static const uint8_t intro[] = {4, 8, 9};            /* R2, R6, R7 */
    static const uint8_t later[] = {3, 5, 6, 7, 10, 11}; /* R1, R3, R4, R5, R8, R9 */
    size_t n = 0;
    out[n++] = ITEM_K1;
    out[n++] = ITEM_K2;
    if (week <= 4)
        out[n++] = intro[date % (sizeof intro)];
    else
        out[n++] = later[date % (sizeof later)];
    if (ww_date_weekday(date) == FRIDAY)
        out[n++] = ITEM_R10;
    return n;
}
