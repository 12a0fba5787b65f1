/*
 * test_climate_attack.c - attacks on the climate exchange of a running hub (aggregator A):
 * a configured reader (aggregator B and combiner) that speaks the channel itself and sends
 * what it likes, a learner that writes shares no device should, and a student who answers
 * again between the reader's pages. Each test states what must hold: the hub refuses with
 * an ERROR and closes, its member syncs still complete, and nobody learns one student's
 * answers.
 *
 * The hub and the members run in this process on one libuv loop (127.0.0.1, ephemeral
 * port); the hostile reader is a raw socket driven between turns of that loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "channel.h"
#include "fixture.h"
#include "kind.h"
#include "loop.h"
#include "runner.h"
#include "share.h"
#include "store.h"
#include "wegwijs_sync.h"

/* ---- The scene: two groups of three in one team, a hub, a praktijkopleider ---------- */

struct scene {
    struct ww_store *hub, *po;
    uint8_t pk_a[32], pk_b[32], hubkey[32], reader[32];
    struct fx_group g[2];
    uint32_t d;
    uv_loop_t loop;
    struct loop_watch wh;
    struct ww_node *hn;
    int port;
};

/* Student s of group i reflects on day d: one done and two partly per group, the partly
 * ones with the supervisor reason; K1 3 or 4, K2 2. */
static void reflect(struct scene *sc, int i, int s, uint8_t k1)
{
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.date = sc->d;
    r.status = s == 0 ? WW_STATUS_DONE : WW_STATUS_PARTLY;
    r.obstacles = s == 0 ? 0 : WW_OBST_NO_SUPERVISOR;
    r.share = WW_SHARE_SELF;
    r.n_answers = 2;
    r.answer_item[0] = 1, r.answer_value[0] = k1;
    r.answer_item[1] = 2, r.answer_value[1] = 2;
    ASSERT_OK(ww_reflection_put(sc->g[i].st[s], sc->g[i].gid, &r, NULL));
}

/* The shares of group i's students reach the hub through the coach. */
static void to_hub(struct scene *sc, int i)
{
    for (int s = 0; s < sc->g[i].n_students; s++)
        fx_sync(sc->g[i].st[s], sc->g[i].coach, sc->g[i].gid, 256);
    fx_sync(sc->g[i].coach, sc->hub, sc->g[i].gid, 256);
}

/* The groups of `size` students and their keys; the first `answering` students of each
 * group reflect. The hub listens, with the praktijkopleider's device as its one climate
 * reader. */
static void scene_start_n(struct scene *sc, int size, int answering)
{
    memset(sc, 0, sizeof *sc);
    sc->hub = fx_open("hub");
    sc->po = fx_open("praktijkopleider");
    ASSERT_OK(ww_store_aggregator_pk(sc->hub, sc->pk_a));
    ASSERT_OK(ww_store_aggregator_pk(sc->po, sc->pk_b));
    ww_store_device(sc->hub, sc->hubkey);
    ww_store_device(sc->po, sc->reader);
    for (int i = 0; i < 2; i++) {
        struct fx_group *g = &sc->g[i];
        fx_group_make(g, size, 0, NULL);
        ASSERT_OK(ww_group_hub_set(g->coach, g->gid, sc->hubkey, "", NULL));
        ASSERT_OK(
            ww_group_climate_set(g->coach, g->gid, sc->pk_a, sc->pk_b, "Zonnebloem", "Utrecht"));
        fx_group_sync(g);
        ASSERT_OK(ww_day_today(g->coach, g->gid, &sc->d));
        for (int s = 0; s < size; s++)
            ASSERT_OK(ww_climate_pin(g->st[s], g->gid, sc->pk_a, sc->pk_b));
        for (int s = 0; s < answering; s++)
            reflect(sc, i, s, (uint8_t)(3 + (s & 1)));
        to_hub(sc, i);
    }
    ASSERT_EQ(uv_loop_init(&sc->loop), 0);
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = sc->hub;
    cfg.hub = 1;
    cfg.ud = &sc->wh;
    cfg.on_conn = loop_on_conn;
    cfg.climate_readers = (const uint8_t(*)[WW_KEY_LEN])sc->reader;
    cfg.n_climate_readers = 1;
    /* These attacks are on the exchange, today's window: serve it before it is final. */
    cfg.climate_live = 1;
    ASSERT_OK(ww_node_new(&sc->loop, &cfg, &sc->hn));
    ASSERT_OK(ww_node_listen(sc->hn, "127.0.0.1", 0));
    sc->port = ww_node_port(sc->hn);
}

static void scene_start(struct scene *sc, int answering)
{
    scene_start_n(sc, 3, answering);
}

static void scene_finish(struct scene *sc)
{
    int closed = 0;
    ww_node_close(sc->hn, loop_closed, &closed);
    loop_run_until(&sc->loop, &closed, 1);
    uv_run(&sc->loop, UV_RUN_DEFAULT);
    ASSERT_EQ(uv_loop_close(&sc->loop), 0);
    ww_store_close(sc->hub);
    ww_store_close(sc->po);
    fx_group_close(&sc->g[0]);
    fx_group_close(&sc->g[1]);
}

/* A member's sync with the hub, one-off: it must complete cleanly within 5 s (the hub's
 * other connections are not harmed by what a reader did). */
static void member_syncs(struct scene *sc)
{
    struct loop_watch w = {0};
    struct ww_node *n = loop_node(&sc->loop, sc->g[1].st[1], 0, &w);
    ASSERT_OK(ww_node_dial(n, "127.0.0.1", sc->port, sc->hubkey, NULL, 0, 1));
    loop_run_until(&sc->loop, &w.down, 1);
    ASSERT_OK(w.last_error);
    ASSERT_GE(w.synced, 1);
    int closed = 0;
    ww_node_close(n, loop_closed, &closed);
    loop_run_until(&sc->loop, &closed, 1);
}

/* ---- A reader that speaks the channel itself ----------------------------------------- */

struct rd {
    int fd, closed;
    struct ww_channel ch;
    int error;               /* the code of the hub's ERROR, 0 if none came */
    int shares, releases;    /* AGG_SHARES and AGG_RELEASE frames received */
    struct ww_buf gate, rel; /* the last release: A's gate and A's release; as a hub, the
                              * gate of the last AGG_GATE */
    int gets, gates;         /* AGG_GET and AGG_GATE frames received (as a hub) */
    uint64_t gate_upto;
    uint64_t upto; /* the snapshot of the last AGG_SHARES */
};

static int rd_dh(void *ud, const uint8_t pub[32], uint8_t out[32])
{
    return ww_store_dh(ud, pub, out);
}

static int rd_frame(void *ud, const uint8_t *frame, size_t len)
{
    struct rd *r = ud;
    static struct ww_frame f;
    ASSERT_OK(ww_frame_decode(frame, len, &f));
    if (f.type == WW_FRAME_ERROR)
        r->error = f.u.error.code;
    else if (f.type == WW_FRAME_AGG_SHARES) {
        r->shares++;
        r->upto = f.u.agg_shares.upto;
    } else if (f.type == WW_FRAME_AGG_GET)
        r->gets++;
    else if (f.type == WW_FRAME_AGG_GATE) {
        r->gates++;
        r->gate_upto = f.u.agg_gate.upto;
        ww_buf_reset(&r->gate);
        ASSERT_OK(ww_buf_append(&r->gate, f.u.agg_gate.gate.p, f.u.agg_gate.gate.len));
    } else if (f.type == WW_FRAME_AGG_RELEASE) {
        r->releases++;
        ww_buf_reset(&r->gate);
        ww_buf_reset(&r->rel);
        ASSERT_OK(ww_buf_append(&r->gate, f.u.agg_release.gate.p, f.u.agg_release.gate.len));
        ASSERT_OK(ww_buf_append(&r->rel, f.u.agg_release.release.p, f.u.agg_release.release.len));
    }
    return 0;
}

/* One turn of the hub's loop; then what the hub sent is read and opened, and the
 * handshake record this side owes goes out. */
static void rd_turn(uv_loop_t *loop, struct rd *r)
{
    uv_run(loop, UV_RUN_NOWAIT);
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
    static uint8_t in[65536];
    ssize_t n = -1;
    while (!r->closed && (n = read(r->fd, in, sizeof in)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r->closed = errno != EAGAIN && errno != EWOULDBLOCK;
            break;
        }
        if (ww_channel_get_state(&r->ch) != WW_CHANNEL_FAILED)
            ww_channel_feed(&r->ch, in, (size_t)n, rd_frame, r);
    }
    if (!r->closed && n == 0)
        r->closed = 1;
    struct ww_buf hs;
    ww_buf_init(&hs, 0);
    if (ww_channel_get_state(&r->ch) != WW_CHANNEL_FAILED)
        ASSERT_OK(ww_channel_handshake_write(&r->ch, &hs));
    for (size_t at = 0; at < hs.len && !r->closed;) {
        ssize_t w = send(r->fd, hs.p + at, hs.len - at, MSG_NOSIGNAL);
        ASSERT(w > 0);
        at += (size_t)w;
    }
    ww_buf_free(&hs);
}

/* Runs turns until *what reaches want, the hub closed the socket, or 5 s pass. */
static void rd_until(uv_loop_t *loop, struct rd *r, const int *what, int want)
{
    uv_update_time(loop);
    uint64_t end = uv_now(loop) + 5000;
    while (*what < want && !r->closed && uv_now(loop) < end) {
        rd_turn(loop, r);
        uv_update_time(loop);
    }
}

/* Connects as the device of store s (the reader, or not) and opens the channel. */
static void rd_open(struct scene *sc, struct rd *r, struct ww_store *s)
{
    memset(r, 0, sizeof *r);
    ww_buf_init(&r->gate, WW_MAX_FRAME);
    ww_buf_init(&r->rel, WW_MAX_FRAME);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(r->fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)sc->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_OK(connect(r->fd, (struct sockaddr *)&a, sizeof a));
    ASSERT_OK(fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) | O_NONBLOCK));
    struct ww_channel_id id;
    ww_store_device(s, id.device_pk);
    ww_store_dh_pk(s, id.static_pk);
    id.dh = rd_dh;
    id.ud = s;
    ASSERT_OK(ww_channel_init_id(&r->ch, WW_CHANNEL_INITIATOR, &id, WW_CAP_SYNC));
    uv_update_time(&sc->loop);
    uint64_t end = uv_now(&sc->loop) + 5000;
    while (ww_channel_get_state(&r->ch) != WW_CHANNEL_OPEN) {
        ASSERT(!r->closed && uv_now(&sc->loop) < end);
        rd_turn(&sc->loop, r);
        uv_update_time(&sc->loop);
    }
    rd_turn(&sc->loop, r); /* message 3 */
}

/* Sends frames (n of them, in one write). */
static void rd_send(struct scene *sc, struct rd *r, const struct ww_frame *f, int n)
{
    struct ww_buf enc, rec;
    ww_buf_init(&enc, 0);
    ww_buf_init(&rec, 0);
    for (int i = 0; i < n; i++) {
        ww_buf_reset(&enc);
        ASSERT_OK(ww_frame_encode(f, &enc));
        ASSERT_OK(ww_channel_seal(&r->ch, enc.p, enc.len, &rec));
    }
    uv_update_time(&sc->loop);
    uint64_t end = uv_now(&sc->loop) + 5000;
    for (size_t at = 0; at < rec.len && !r->closed;) {
        ssize_t w = send(r->fd, rec.p + at, rec.len - at, MSG_NOSIGNAL);
        if (w > 0)
            at += (size_t)w;
        else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            rd_turn(&sc->loop, r);
        else
            r->closed = 1;
        uv_update_time(&sc->loop);
        ASSERT_LT(uv_now(&sc->loop), end);
    }
    ww_buf_free(&enc);
    ww_buf_free(&rec);
}

/* The reader's first request, AGG_GET {0, 0}: the hub answers with its snapshot (the
 * first page), which every later frame of the connection must name. */
static uint64_t rd_snapshot(struct scene *sc, struct rd *r)
{
    struct ww_frame f;
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_AGG_GET;
    int want = r->shares + 1;
    rd_send(sc, r, &f, 1);
    rd_until(&sc->loop, r, &r->shares, want);
    ASSERT_EQ(r->shares, want);
    return r->upto;
}

static void rd_close(struct rd *r)
{
    close(r->fd);
    ww_channel_close(&r->ch);
    ww_buf_free(&r->gate);
    ww_buf_free(&r->rel);
}

/* The hub must answer with an ERROR (of code `code`, or any when 0) and close. */
static void rd_refused(struct scene *sc, struct rd *r, int code)
{
    int never = 0;
    rd_until(&sc->loop, r, &never, 1);
    if (!r->error)
        ww_test_fail(__FILE__, __LINE__, "the hub sent no ERROR (%d releases, %d pages, %s)",
                     r->releases, r->shares, r->closed ? "closed" : "still open after 5 s");
    if (code)
        ASSERT_EQ(r->error, code);
    ASSERT(r->closed);
}

/* ---- Aggregator B, as an honest reader computes it ----------------------------------- */

struct bside {
    struct ww_agg_setup su;
    struct ww_agg *b;
    const uint64_t *skip;
    size_t n_skip;
};

static int b_add(void *ud, uint64_t id, const uint8_t *msg, size_t len)
{
    struct bside *bs = ud;
    struct ww_share_msg m;
    ASSERT_OK(ww_share_decode(msg, len, &m));
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < bs->n_skip; i++)
        if (bs->skip[i] == id) /* left out as an honest reader does: its cells void */
            return ww_agg_add_void(bs->b, &m) == WW_ENOMEM ? WW_ENOMEM : 0;
    rc = ww_agg_add(bs->b, &m);
    return rc == WW_EGROUP ? 0 : rc;
}

/* B over the hub's shares up to upto, leaving out the ids in skip: what a reader holds
 * after its pages (the hub serves exactly these rows). */
static void b_build(struct scene *sc, struct bside *bs, uint64_t upto, const uint64_t *skip,
                    size_t n_skip)
{
    memset(bs, 0, sizeof *bs);
    ASSERT_OK(ww_climate_setup(sc->hub, &bs->su));
    ASSERT_OK(ww_climate_agg_new(sc->po, &bs->su, 0, 1, &bs->b));
    bs->skip = skip;
    bs->n_skip = n_skip;
    uint64_t next = 0;
    ASSERT_OK(ww_climate_page(sc->hub, 0, upto, 1u << 20, b_add, bs, &next));
}

static void b_free(struct bside *bs)
{
    ww_agg_free(bs->b);
    ww_agg_setup_free(&bs->su);
}

/* An AGG_GATE of B's gate (changed by the caller through tweak, may be NULL, and with
 * its k replaced by k unless k < 0: the encoder would refuse it), for upto and skip. The
 * frame's slices live in the bufs. */
static void gate_frame(struct bside *bs, uint64_t upto, const uint64_t *skip, size_t n_skip,
                       void (*tweak)(struct ww_agg_summary *), int k, struct ww_buf *gb,
                       struct ww_buf *sb, struct ww_frame *f)
{
    struct ww_agg_summary gate = {0};
    ASSERT_OK(ww_agg_gate(bs->b, &gate));
    if (tweak)
        tweak(&gate);
    ww_buf_init(gb, WW_MAX_FRAME);
    ww_buf_init(sb, 8 * WW_MAX_AGG_SKIP + 8);
    ASSERT_OK(ww_agg_summary_encode(&gate, gb));
    ww_agg_summary_free(&gate);
    if (k >= 0) { /* [1, k, released, cells]: k is the third byte, a fixint */
        ASSERT_EQ(gb->p[2], WW_AGG_K_MIN);
        gb->p[2] = (uint8_t)k;
    }
    for (size_t i = 0; i < n_skip; i++) {
        uint8_t be[8];
        for (int j = 0; j < 8; j++)
            be[j] = (uint8_t)(skip[i] >> (56 - 8 * j));
        ASSERT_OK(ww_buf_append(sb, be, 8));
    }
    memset(f, 0, sizeof *f);
    f->type = WW_FRAME_AGG_GATE;
    f->u.agg_gate.upto = upto;
    f->u.agg_gate.skip = (struct ww_slice){sb->p, sb->len};
    f->u.agg_gate.gate = (struct ww_slice){gb->p, gb->len};
}

/* The reader's whole round for (upto, skip): B built, the gate sent, A's release combined
 * with B's into the hub's report. Returns 0 with the report, or the hub's wire ERROR. */
static int reader_round(struct scene *sc, uint64_t upto, const uint64_t *skip, size_t n_skip,
                        struct ww_agg_report *rep)
{
    struct bside bs;
    b_build(sc, &bs, upto, skip, n_skip);
    struct ww_buf gb, sb;
    struct ww_frame f;
    gate_frame(&bs, upto, skip, n_skip, NULL, -1, &gb, &sb, &f);
    struct rd r;
    rd_open(sc, &r, sc->po);
    rd_snapshot(sc, &r);
    rd_send(sc, &r, &f, 1);
    rd_until(&sc->loop, &r, &r.releases, 1);
    int rc = r.error;
    memset(rep, 0, sizeof *rep);
    if (r.releases) {
        struct ww_agg_summary ga = {0}, ra = {0}, rb = {0};
        ASSERT_OK(ww_agg_summary_decode(r.gate.p, r.gate.len, &ga));
        ASSERT_OK(ww_agg_summary_decode(r.rel.p, r.rel.len, &ra));
        ASSERT_OK(ww_agg_release(bs.b, &ga, &rb));
        ASSERT_OK(ww_agg_combine(&ra, &rb, rep));
        ww_agg_summary_free(&ga);
        ww_agg_summary_free(&ra);
        ww_agg_summary_free(&rb);
    } else {
        ASSERT(rc != 0);
    }
    rd_close(&r);
    ww_buf_free(&gb);
    ww_buf_free(&sb);
    b_free(&bs);
    return rc;
}

static const struct ww_agg_cell *team_cell(const struct scene *sc, const struct ww_agg_report *r)
{
    return ww_agg_report_find(r, WW_AGG_TEAM, 1, ww_agg_window(sc->d));
}

/* The hub's row id of the share of group i's student s (its newest). */
static uint64_t share_id(struct scene *sc, int i, int s)
{
    char hex[33], sql[160];
    sodium_bin2hex(hex, sizeof hex, sc->g[i].m_st[s], 16);
    snprintf(sql, sizeof sql, "SELECT max(id) FROM climate_shares WHERE member=x'%s'", hex);
    return (uint64_t)fx_count(sc->hub, sql);
}

static int count_one(void *ud, uint64_t id, const uint8_t *msg, size_t len)
{
    (void)id, (void)msg, (void)len;
    (*(int *)ud)++;
    return 0;
}

/* How many shares the hub serves to aggregator B. */
static int served(struct scene *sc)
{
    int n = 0;
    uint64_t next = 0;
    ASSERT_OK(ww_climate_page(sc->hub, 0, INT64_MAX, 1u << 20, count_one, &n, &next));
    return n;
}

/* ---- 1. A hostile reader --------------------------------------------------------------- */

/*
 * The reader is aggregator B: it holds every share B of every day. If the hub releases
 * A's sums for two sets of shares that differ by one day, the difference of the two A
 * releases plus that day's share B (which the reader opens) is the day in the clear. The
 * reader chooses the set through the skip list and through upto; the hub must not let two
 * of its releases differ by one student. Through upto this is also what a reader sees that
 * fetches before and after one student's answer: the difference of two fetches of one
 * window must not isolate a person either (R-6 says so of adjacent windows).
 */
static void one_student_by_difference(int by_skip)
{
    struct scene sc;
    scene_start(&sc, 3);
    uint64_t last = 0;
    ASSERT_OK(ww_climate_last(sc.hub, &last));
    /* The victim: group 1's third student, the last share the hub stored. */
    uint64_t victim = share_id(&sc, 1, 2);
    ASSERT_EQ(victim, last);
    struct ww_agg_report all, but;
    ASSERT_OK(reader_round(&sc, last, NULL, 0, &all));
    int rc = by_skip ? reader_round(&sc, last, &victim, 1, &but)
                     : reader_round(&sc, last - 1, NULL, 0, &but);
    const struct ww_agg_cell *t1 = team_cell(&sc, &all), *t2 = team_cell(&sc, &but);
    if (rc == 0 && t1 && t1->status_shown && t2 && t2->status_shown) {
        /* What the difference tells of the victim's day. */
        uint64_t st[3], reason = t1->reasons[1] - t2->reasons[1];
        for (int s = 0; s < 3; s++)
            st[s] = t1->status[s] - t2->status[s];
        fprintf(stderr,
                "# the reader learned one student's day: done %llu, partly %llu, "
                "not %llu, supervisor reason %llu (students %u vs %u)\n",
                (unsigned long long)st[0], (unsigned long long)st[1], (unsigned long long)st[2],
                (unsigned long long)reason, t1->students, t2->students);
        ASSERT(!(t1->students == t2->students + 1 && st[0] + st[1] + st[2] == 1));
    }
    ww_agg_report_free(&all);
    ww_agg_report_free(&but);
    member_syncs(&sc);
    scene_finish(&sc);
}

TEST(climate_reader_cannot_isolate_a_student_by_skip)
{
    one_student_by_difference(1);
}

TEST(climate_reader_cannot_isolate_a_student_by_upto)
{
    one_student_by_difference(0);
}

/* Hostile AGG_GATEs, each on its own connection: refused with an ERROR and closed, and a
 * member's sync completes afterwards. */
static void gate_more_students(struct ww_agg_summary *g)
{
    ASSERT_GT(g->n, 0);
    g->cells[0].students++;
}

static void hostile_gate(void (*tweak)(struct ww_agg_summary *), int k, const uint64_t *skip,
                         size_t n_skip, int code)
{
    struct scene sc;
    scene_start(&sc, 3);
    uint64_t last = 0;
    ASSERT_OK(ww_climate_last(sc.hub, &last));
    struct bside bs;
    b_build(&sc, &bs, last, skip, n_skip);
    struct ww_buf gb, sb;
    struct ww_frame f;
    gate_frame(&bs, last, skip, n_skip, tweak, k, &gb, &sb, &f);
    struct rd r;
    rd_open(&sc, &r, sc.po);
    ASSERT_EQ(rd_snapshot(&sc, &r), last);
    rd_send(&sc, &r, &f, 1);
    rd_refused(&sc, &r, code);
    ASSERT_EQ(r.releases, 0);
    rd_close(&r);
    ww_buf_free(&gb);
    ww_buf_free(&sb);
    b_free(&bs);
    member_syncs(&sc);
    scene_finish(&sc);
}

TEST(climate_hub_refuses_a_gate_with_k_below_5)
{
    hostile_gate(NULL, 3, NULL, 0, WW_WIRE_PROTOCOL);
}

TEST(climate_hub_refuses_a_gate_without_k)
{
    hostile_gate(NULL, 0, NULL, 0, WW_WIRE_PROTOCOL);
}

TEST(climate_hub_refuses_a_gate_whose_cells_differ)
{
    hostile_gate(gate_more_students, -1, NULL, 0, WW_WIRE_BUSY);
}

/* The ids B leaves out are strictly ascending: the codec refuses another order both ways
 * (so no hub ever acts on one). */
TEST(climate_hub_refuses_an_unsorted_skip_list)
{
    uint8_t skip[16] = {0}, gate[4] = {0x94, 1, 5, 0};
    skip[7] = 1, skip[15] = 3;
    struct ww_frame f;
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_AGG_GATE;
    f.u.agg_gate.upto = 9;
    f.u.agg_gate.skip = (struct ww_slice){skip, sizeof skip};
    f.u.agg_gate.gate = (struct ww_slice){gate, sizeof gate};
    struct ww_buf enc;
    ww_buf_init(&enc, 0);
    ASSERT_OK(ww_frame_encode(&f, &enc));
    /* The same frame with the two ids swapped in its bytes. */
    uint8_t *at = NULL;
    for (size_t i = 0; !at && i + sizeof skip <= enc.len; i++)
        if (!memcmp(enc.p + i, skip, sizeof skip))
            at = enc.p + i;
    ASSERT(at != NULL);
    at[7] = 3, at[15] = 1;
    struct ww_frame back;
    ASSERT_ERR(ww_frame_decode(enc.p, enc.len, &back), WW_ERANGE);
    skip[7] = 3, skip[15] = 1;
    ww_buf_reset(&enc);
    ASSERT_ERR(ww_frame_encode(&f, &enc), WW_ERANGE);
    ww_buf_free(&enc);
}

/* One frame from the device of store `as` (the reader when NULL) on a connection of its
 * own: the hub answers ERROR `code` (any code when 0), releases nothing and closes, and a
 * member's sync completes afterwards. */
static void reader_sends(struct scene *sc, const struct ww_frame *f, struct ww_store *as, int code)
{
    struct rd r;
    rd_open(sc, &r, as ? as : sc->po);
    rd_send(sc, &r, f, 1);
    rd_refused(sc, &r, code);
    ASSERT_EQ(r.releases, 0);
    rd_close(&r);
    member_syncs(sc);
}

static const uint8_t junk[] = {0x93, 0x01, 0x02, 0x03};

TEST(climate_hub_refuses_a_gate_that_is_no_summary)
{
    struct scene sc;
    scene_start(&sc, 3);
    struct ww_frame f;
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_AGG_GATE;
    ASSERT_OK(ww_climate_last(sc.hub, &f.u.agg_gate.upto));
    f.u.agg_gate.gate = (struct ww_slice){junk, sizeof junk};
    reader_sends(&sc, &f, NULL, WW_WIRE_PROTOCOL);
    scene_finish(&sc);
}

/* The hub's own frames, from the reader. */
TEST(climate_hub_refuses_shares_and_releases_from_a_reader)
{
    struct scene sc;
    scene_start(&sc, 3);
    static uint8_t msg[9];
    struct ww_frame f;
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_AGG_SHARES;
    f.u.agg_shares.upto = 1;
    f.u.agg_shares.n = 1;
    f.u.agg_shares.msg[0] = (struct ww_slice){msg, sizeof msg};
    reader_sends(&sc, &f, NULL, WW_WIRE_PROTOCOL);
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_AGG_RELEASE;
    f.u.agg_release.gate = (struct ww_slice){junk, sizeof junk};
    f.u.agg_release.release = (struct ww_slice){junk, sizeof junk};
    reader_sends(&sc, &f, NULL, WW_WIRE_PROTOCOL);
    scene_finish(&sc);
}

/* A learner's key is no reader: even a well-formed gate is denied. */
TEST(climate_hub_denies_a_gate_from_a_learner)
{
    struct scene sc;
    scene_start(&sc, 3);
    uint64_t last = 0;
    ASSERT_OK(ww_climate_last(sc.hub, &last));
    struct bside bs;
    b_build(&sc, &bs, last, NULL, 0);
    struct ww_buf gb, sb;
    struct ww_frame f;
    gate_frame(&bs, last, NULL, 0, NULL, -1, &gb, &sb, &f);
    reader_sends(&sc, &f, sc.g[0].st[0], WW_WIRE_DENIED);
    ww_buf_free(&gb);
    ww_buf_free(&sb);
    b_free(&bs);
    scene_finish(&sc);
}

/* A gate for a snapshot beyond the newest share: refused, or a release of the shares
 * there are (the same as for the newest id); never a crash. */
TEST(climate_gate_beyond_the_newest_share_releases_no_more)
{
    struct scene sc;
    scene_start(&sc, 3);
    uint64_t last = 0;
    ASSERT_OK(ww_climate_last(sc.hub, &last));
    struct ww_agg_report now, beyond;
    ASSERT_OK(reader_round(&sc, last, NULL, 0, &now));
    if (reader_round(&sc, last + 1000000, NULL, 0, &beyond) == 0) {
        const struct ww_agg_cell *t1 = team_cell(&sc, &now), *t2 = team_cell(&sc, &beyond);
        ASSERT(t1 && t2);
        ASSERT_EQ(t2->students, t1->students);
        ASSERT_EQ(t2->status[0], t1->status[0]);
        ASSERT_EQ(t2->status[1], t1->status[1]);
    }
    ww_agg_report_free(&now);
    ww_agg_report_free(&beyond);
    member_syncs(&sc);
    scene_finish(&sc);
}

/* A reader that floods AGG_GET: the member syncs of others still complete in bound. */
TEST(climate_get_flood_leaves_member_syncs_alone)
{
    struct scene sc;
    scene_start(&sc, 3);
    struct ww_frame f;
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_AGG_GET;
    struct rd r;
    rd_open(&sc, &r, sc.po);
    rd_send(&sc, &r, &f, 200);
    uv_update_time(&sc.loop);
    uint64_t t0 = uv_now(&sc.loop);
    member_syncs(&sc);
    uv_update_time(&sc.loop);
    uint64_t ms = uv_now(&sc.loop) - t0;
    rd_until(&sc.loop, &r, &r.shares, 200);
    fprintf(stderr,
            "# a member's sync during a flood of 200 AGG_GET: %llu ms; %d pages "
            "answered, error %d\n",
            (unsigned long long)ms, r.shares, r.error);
    ASSERT_LT(ms, 2000);
    rd_close(&r);
    scene_finish(&sc);
}

/*
 * A reader that floods AGG_GATE: each gate makes the hub open and sum every share it
 * holds, on the loop that serves every connection. With the shares of a large region
 * (N_SHARES copies of one day), ten gates in one write must not hold up a member's sync
 * beyond the bound test_attack.c states for the others of an attack (P99 2000 ms).
 */
#define N_SHARES 10000

TEST(climate_gate_flood_leaves_member_syncs_alone)
{
    struct scene sc;
    scene_start(&sc, 3);
    /* Copies of the first share under other members, whatever else the row holds. */
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(sc.hub->db,
                                 "SELECT group_concat(name) FROM pragma_table_info("
                                 "'climate_shares') WHERE name NOT IN ('id', 'member')",
                                 -1, &st, NULL),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    char sql[600];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<%d) "
             "INSERT INTO climate_shares(member, %s) SELECT randomblob(16), %s FROM "
             "climate_shares, n WHERE id=1",
             N_SHARES, sqlite3_column_text(st, 0), sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    ASSERT_EQ(sqlite3_exec(sc.hub->db, sql, NULL, NULL, NULL), SQLITE_OK);
    uint64_t last = 0;
    ASSERT_OK(ww_climate_last(sc.hub, &last));
    struct bside bs;
    b_build(&sc, &bs, last, NULL, 0);
    struct ww_buf gb, sb;
    struct ww_frame f;
    gate_frame(&bs, last, NULL, 0, NULL, -1, &gb, &sb, &f);
    struct rd r;
    rd_open(&sc, &r, sc.po);
    ASSERT_EQ(rd_snapshot(&sc, &r), last);
    uv_update_time(&sc.loop);
    uint64_t t0 = uv_now(&sc.loop);
    rd_send(&sc, &r, &f, 1);
    rd_until(&sc.loop, &r, &r.releases, 1);
    uv_update_time(&sc.loop);
    uint64_t one = uv_now(&sc.loop) - t0;
    ASSERT_EQ(r.releases, 1);
    rd_send(&sc, &r, &f, 10);
    t0 = uv_now(&sc.loop);
    member_syncs(&sc);
    uv_update_time(&sc.loop);
    uint64_t ms = uv_now(&sc.loop) - t0;
    fprintf(stderr, "# one gate over %d shares: %llu ms; a member's sync behind ten: %llu ms\n",
            N_SHARES, (unsigned long long)one, (unsigned long long)ms);
    ASSERT_LT(ms, 2000);
    rd_close(&r);
    ww_buf_free(&gb);
    ww_buf_free(&sb);
    b_free(&bs);
    scene_finish(&sc);
}

/* ---- 3. A hostile learner -------------------------------------------------------------- */

/* A day of student `st`'s device in group gid, sealed to pk_a and pk_b, under the
 * pseudonym key nym: a first "done" with no items asked, or the counters x as they are
 * (a malformed device's) unless x is NULL. */
static void crafted_share(struct ww_store *st, const uint8_t gid[16], uint32_t date,
                          const uint8_t nym[32], const uint8_t pk_a[32], const uint8_t pk_b[32],
                          const uint64_t *x)
{
    struct ww_agg_day day = {.date = date, .asked = 0, .status = WW_STATUS_DONE};
    day.first = 1u << WW_AGG_STATUS_BLOCK;
    struct ww_share_msg m;
    if (x)
        ASSERT_OK(ww_share_make_counters(x, date, 0, gid, nym, pk_a, pk_b, NULL, NULL, &m));
    else
        ASSERT_OK(ww_share_make(&day, gid, nym, pk_a, pk_b, NULL, NULL, &m));
    ASSERT_OK(ww_climate_share_emit(st, gid, date, &m));
}

struct got {
    struct loop_watch w;
    int done, rc;
    struct ww_agg_cell team;
    int has_team;
    uint32_t window;
};

static void on_climate(void *ud, int rc, const struct ww_agg_report *r,
                       const struct ww_agg_setup *su)
{
    struct got *g = ud;
    (void)su;
    g->done++;
    g->rc = rc;
    const struct ww_agg_cell *t = rc ? NULL : ww_agg_report_find(r, WW_AGG_TEAM, 1, g->window);
    if (t) {
        g->team = *t;
        g->has_team = 1;
    }
}

/* The praktijkopleider's own tool fetches: the hub's team cell, if the fetch succeeds. */
static void fetch(struct scene *sc, struct got *got)
{
    memset(got, 0, sizeof *got);
    got->window = ww_agg_window(sc->d);
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = sc->po;
    cfg.ud = got;
    cfg.on_conn = loop_on_conn;
    cfg.on_climate = on_climate;
    struct ww_node *n = NULL;
    ASSERT_OK(ww_node_new(&sc->loop, &cfg, &n));
    ASSERT_OK(ww_node_climate(n, "127.0.0.1", sc->port, sc->hubkey, 0));
    loop_run_until(&sc->loop, &got->done, 1);
    int closed = 0;
    ww_node_close(n, loop_closed, &closed);
    loop_run_until(&sc->loop, &closed, 1);
}

/*
 * One learner poses as four students: four days of one window, each under a pseudonym of
 * its own. With one honest student of the other group that makes five "students" from two
 * groups, and the learner, who knows its own four days, reads the fifth from the released
 * totals. The hub sees the author of every share: one member is one student in a window.
 */
TEST(climate_one_learner_cannot_pose_as_several_students)
{
    struct scene sc;
    scene_start(&sc, 0);
    /* The victim: group 1's first student, done. */
    reflect(&sc, 1, 0, 4);
    to_hub(&sc, 1);
    uint32_t w = ww_agg_window(sc.d), dates[4];
    int n = 0;
    for (int off = 0; n < 4 && off < 28; off++)
        for (int sign = -1; sign <= 1 && n < 4; sign += 2)
            if ((off || sign > 0) && ww_agg_window(sc.d + (uint32_t)(sign * off)) == w)
                dates[n++] = sc.d + (uint32_t)(sign * off);
    ASSERT_EQ(n, 4);
    for (int i = 0; i < 4; i++) {
        uint8_t nym[32];
        randombytes_buf(nym, sizeof nym);
        crafted_share(sc.g[0].st[0], sc.g[0].gid, dates[i], nym, sc.pk_a, sc.pk_b, NULL);
    }
    to_hub(&sc, 0);
    struct got got;
    fetch(&sc, &got);
    ASSERT_OK(got.rc);
    if (got.has_team && got.team.shown)
        fprintf(stderr,
                "# team cell shown with %u students, %u days, status shown %d: "
                "done %llu (4 of them the attacker's), partly %llu\n",
                got.team.students, got.team.n_days, got.team.status_shown,
                (unsigned long long)got.team.status[0], (unsigned long long)got.team.status[1]);
    ASSERT(!got.has_team || !got.team.shown);
    member_syncs(&sc);
    scene_finish(&sc);
}

/*
 * A learner's share A sealed to another key: the hub cannot open it, so it never serves
 * it and A never counts it; the fetch succeeds with the honest days. A share B sealed to
 * another key: B cannot open it, names it in its skip list, A leaves it out too; the fetch
 * succeeds with the honest days.
 */
static void foreign_share(int which)
{
    struct scene sc;
    scene_start(&sc, 3);
    uint8_t other_pk[32], other_sk[32], nym[32], secret[32];
    crypto_box_keypair(other_pk, other_sk);
    /* The student's own pseudonym key for the group (core/climate.c): the same pseudonym
     * as its honest day, so that the hub serves the crafted one too. */
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(sc.g[0].st[0]->db, "SELECT v FROM meta WHERE k='nym_key'", -1, &st,
                                 NULL),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    ASSERT_EQ(sqlite3_column_bytes(st, 0), 32);
    memcpy(secret, sqlite3_column_blob(st, 0), 32);
    sqlite3_finalize(st);
    crypto_generichash(nym, 32, sc.g[0].gid, 16, secret, 32);
    /* Group 0's first student writes a second day, its share A or B to a stranger. */
    crafted_share(sc.g[0].st[0], sc.g[0].gid, sc.d + 1, nym, which ? sc.pk_a : other_pk,
                  which ? other_pk : sc.pk_b, NULL);
    to_hub(&sc, 0);
    ASSERT_EQ(fx_count(sc.hub, "SELECT count(*) FROM climate_shares"), 7);
    ASSERT_EQ(served(&sc), 7 - !which);
    struct got got;
    fetch(&sc, &got);
    ASSERT_OK(got.rc);
    if (which) {
        /* Share B does not open for the reader: left out by both aggregators, and its team
         * and location release nothing in that window (a release with and one without it
         * would give that day). The fetch itself succeeds. */
        ASSERT(got.has_team && !got.team.shown);
    } else {
        ASSERT(got.has_team && got.team.shown && got.team.status_shown);
        ASSERT_EQ(got.team.students, 6);
        ASSERT_EQ(got.team.n_days, 6);
        ASSERT_EQ(got.team.status[0], 2);
        ASSERT_EQ(got.team.status[1], 4);
    }
    member_syncs(&sc);
    scene_finish(&sc);
}

TEST(climate_share_a_the_hub_cannot_open_is_not_served)
{
    foreign_share(0);
}

TEST(climate_share_b_the_reader_cannot_open_voids_its_cells)
{
    foreign_share(1);
}

/*
 * A learner's counters in range but impossible: a thousand "done" in one day. The
 * combined totals no valid days make void the cell (ARCHITECTURE.md, "A malformed
 * share"): the fetch succeeds and the team cell is suppressed, for the honest students
 * too; it never shows the inflated count.
 */
TEST(climate_impossible_counters_void_the_cell_not_the_fetch)
{
    struct scene sc;
    scene_start_n(&sc, 4, 3);
    uint64_t x[WW_AGG_DIM] = {0};
    x[WW_AGG_STATUS(WW_STATUS_DONE)] = 1000;
    x[WW_AGG_STATUS_FIRST] = 1;
    uint8_t nym[32];
    randombytes_buf(nym, sizeof nym);
    crafted_share(sc.g[0].st[3], sc.g[0].gid, sc.d, nym, sc.pk_a, sc.pk_b, x);
    to_hub(&sc, 0);
    ASSERT_EQ(served(&sc), 7);
    struct got got;
    fetch(&sc, &got);
    ASSERT_OK(got.rc);
    ASSERT(got.has_team);
    fprintf(stderr, "# a thousand done in one share: team cell shown %d, invalid %d, done %llu\n",
            got.team.shown, got.team.invalid, (unsigned long long)got.team.status[0]);
    ASSERT(!got.team.shown || !got.team.status_shown);
    ASSERT(got.team.status[0] < 1000);
    member_syncs(&sc);
    scene_finish(&sc);
}

/* A share of another group or date than its event says is refused where it is written. */
TEST(climate_share_for_another_group_or_date_is_refused)
{
    struct scene sc;
    scene_start(&sc, 0);
    uint8_t nym[32];
    randombytes_buf(nym, sizeof nym);
    struct ww_agg_day day = {.date = sc.d, .status = WW_STATUS_DONE};
    for (int bad = 0; bad < 2; bad++) {
        struct ww_share_msg m;
        ASSERT_OK(ww_share_make(&day, bad ? sc.g[1].gid : sc.g[0].gid, nym, sc.pk_a, sc.pk_b, NULL,
                                NULL, &m));
        struct ww_buf msg;
        ww_buf_init(&msg, WW_SHARE_MSG_MAX);
        ASSERT_OK(ww_share_encode(&m, &msg));
        struct ww_body body;
        memset(&body, 0, sizeof body);
        body.kind = WW_KIND_CLIMATE_SHARE;
        body.u.climate_share.date = bad ? sc.d : sc.d + 1; /* the message says sc.d */
        body.u.climate_share.msg = (struct ww_slice){msg.p, msg.len};
        uint8_t ref[4];
        ww_date_ref(body.u.climate_share.date, ref);
        struct ww_emit e = {.kind = WW_KIND_CLIMATE_SHARE,
                            .audience = WW_AUD_PLAIN,
                            .ref = ref,
                            .ref_len = 4,
                            .body = &body};
        ASSERT(ww_emit_tx(sc.g[0].st[0], sc.g[0].gid, &e, NULL) != 0);
        ww_buf_free(&msg);
    }
    ASSERT_EQ(fx_count(sc.g[0].st[0], "SELECT count(*) FROM climate_shares"), 0);
    scene_finish(&sc);
}

/* ---- 5. A student answers again between the reader's pages ---------------------------- */

TEST(climate_reanswer_between_pages_gives_busy_or_the_right_totals)
{
    struct scene sc;
    scene_start(&sc, 3);
    uint64_t last = 0;
    ASSERT_OK(ww_climate_last(sc.hub, &last));
    /* The reader's connection gets the snapshot up to `last`, and B its pages. */
    struct rd rr;
    rd_open(&sc, &rr, sc.po);
    ASSERT_EQ(rd_snapshot(&sc, &rr), last);
    struct bside bs;
    b_build(&sc, &bs, last, NULL, 0);
    struct ww_buf gb, sb;
    struct ww_frame f;
    gate_frame(&bs, last, NULL, 0, NULL, -1, &gb, &sb, &f);
    /* Meanwhile group 0's second student answers again: done now, K1 5. */
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.date = sc.d;
    r.status = WW_STATUS_DONE;
    r.share = WW_SHARE_SELF;
    r.n_answers = 2;
    r.answer_item[0] = 1, r.answer_value[0] = 5;
    r.answer_item[1] = 2, r.answer_value[1] = 5;
    ASSERT_OK(ww_reflection_put(sc.g[0].st[1], sc.g[0].gid, &r, NULL));
    to_hub(&sc, 0);
    uint64_t now = 0;
    ASSERT_OK(ww_climate_last(sc.hub, &now));
    ASSERT_GT(now, last);
    ASSERT_EQ(fx_count(sc.hub, "SELECT count(*) FROM climate_shares"), 6);
    rd_send(&sc, &rr, &f, 1);
    rd_until(&sc.loop, &rr, &rr.releases, 1);
    fprintf(stderr, "# a gate over the old snapshot after a re-answer: %s\n",
            rr.releases                ? "released"
            : rr.error == WW_WIRE_BUSY ? "BUSY"
                                       : "refused otherwise");
    if (rr.releases) {
        /* Released anyway: then over the very days B summed, the old answer included. */
        struct ww_agg_summary ga = {0}, ra = {0}, rb = {0};
        struct ww_agg_report rep = {0};
        ASSERT_OK(ww_agg_summary_decode(rr.gate.p, rr.gate.len, &ga));
        ASSERT_OK(ww_agg_summary_decode(rr.rel.p, rr.rel.len, &ra));
        ASSERT_OK(ww_agg_release(bs.b, &ga, &rb));
        ASSERT_OK(ww_agg_combine(&ra, &rb, &rep));
        const struct ww_agg_cell *t = team_cell(&sc, &rep);
        ASSERT(t && t->shown);
        ASSERT_EQ(t->status[0], 2);
        ASSERT_EQ(t->status[1], 4);
        ww_agg_report_free(&rep);
        ww_agg_summary_free(&ga);
        ww_agg_summary_free(&ra);
        ww_agg_summary_free(&rb);
    } else {
        ASSERT_EQ(rr.error, WW_WIRE_BUSY);
    }
    rd_close(&rr);
    ww_buf_free(&gb);
    ww_buf_free(&sb);
    b_free(&bs);
    /* A fresh fetch sees the new answer. */
    struct got got;
    fetch(&sc, &got);
    ASSERT_OK(got.rc);
    ASSERT(got.has_team && got.team.status_shown);
    ASSERT_EQ(got.team.status[0], 3);
    ASSERT_EQ(got.team.status[1], 3);
    member_syncs(&sc);
    scene_finish(&sc);
}

/* ---- 4. What the coach's device and the hub hold --------------------------------------- */

/* How often the bytes `ans` occur in the values of any column of any table of s. */
static int occurrences(struct ww_store *s, const uint8_t *ans, int len)
{
    sqlite3_stmt *tables;
    ASSERT_EQ(sqlite3_prepare_v2(s->db, "SELECT name FROM sqlite_master WHERE type='table'", -1,
                                 &tables, NULL),
              SQLITE_OK);
    int hits = 0, values = 0;
    while (sqlite3_step(tables) == SQLITE_ROW) {
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", sqlite3_column_text(tables, 0));
        sqlite3_stmt *rows;
        ASSERT_EQ(sqlite3_prepare_v2(s->db, sql, -1, &rows, NULL), SQLITE_OK);
        while (sqlite3_step(rows) == SQLITE_ROW)
            for (int c = 0; c < sqlite3_column_count(rows); c++, values++) {
                const uint8_t *v = sqlite3_column_blob(rows, c);
                int n = sqlite3_column_bytes(rows, c);
                for (int at = 0; v && at + len <= n; at++)
                    if (!memcmp(v + at, ans, (size_t)len)) {
                        fprintf(stderr, "# found in %s.%s\n", sqlite3_column_text(tables, 0),
                                sqlite3_column_name(rows, c));
                        hits++;
                    }
            }
        sqlite3_finalize(rows);
    }
    sqlite3_finalize(tables);
    ASSERT_GT(values, 0);
    return hits;
}

/* Each student of group 0 answers six items with a pattern of its own, shared with
 * itself, the group and the coach: the bytes of the answers (as the student's own store
 * keeps them) occur there, and nowhere in the coach's store or the hub's. */
TEST(climate_answers_are_nowhere_in_the_clear_on_the_coach_or_hub)
{
    struct scene sc;
    scene_start(&sc, 0);
    static const uint8_t v[3][6] = {{5, 1, 4, 2, 3, 5}, {1, 5, 2, 4, 5, 3}, {4, 4, 1, 5, 2, 1}};
    static const int mode[3] = {WW_SHARE_SELF, WW_SHARE_GROUP, WW_SHARE_COACH};
    for (int s = 0; s < 3; s++) {
        struct ww_reflection r;
        memset(&r, 0, sizeof r);
        r.date = sc.d;
        r.status = WW_STATUS_PARTLY;
        r.obstacles = WW_OBST_NO_SUPERVISOR;
        r.share = mode[s];
        r.n_answers = 6;
        for (int i = 0; i < 6; i++)
            r.answer_item[i] = (uint8_t)(i + 1), r.answer_value[i] = v[s][i];
        ASSERT_OK(ww_reflection_put(sc.g[0].st[s], sc.g[0].gid, &r, NULL));
    }
    to_hub(&sc, 0);
    fx_group_sync(&sc.g[0]);
    fx_sync(sc.hub, sc.g[0].coach, sc.g[0].gid, 256);
    ASSERT_EQ(fx_count(sc.hub, "SELECT count(*) FROM climate_shares"), 3);
    for (int s = 0; s < 3; s++) {
        uint8_t ans[12];
        for (int i = 0; i < 6; i++)
            ans[2 * i] = (uint8_t)(i + 1), ans[2 * i + 1] = v[s][i];
        ASSERT_GE(occurrences(sc.g[0].st[s], ans, sizeof ans), 1);
        ASSERT_EQ(occurrences(sc.g[0].coach, ans, sizeof ans), 0);
        ASSERT_EQ(occurrences(sc.hub, ans, sizeof ans), 0);
    }
    ASSERT_EQ(fx_count(sc.g[0].coach, "SELECT count(*) FROM climate"), 0);
    ASSERT_EQ(fx_count(sc.hub, "SELECT count(*) FROM climate"), 0);
    scene_finish(&sc);
}

/* ---- 2. A hostile hub ------------------------------------------------------------------ */

/*
 * A hub with the right key (the hub's own store) that answers the reader's tool as it
 * likes: it listens on a plain socket, and the test drives its side of the channel
 * between turns of the loop the reader's node runs on.
 */
enum lie {
    HONEST,        /* the control: answered as a hub would */
    NOT_ASCENDING, /* ids 2, 1 */
    ABOVE_UPTO,    /* an id above the page's upto */
    SETUP_AGAIN,   /* the setup again on the second page */
    EMPTY_MORE,    /* no shares, more = 1 */
    GARBAGE_SETUP, /* a setup that is no setup */
    RELEASE_EARLY, /* a release right after the first page, before B's gate */
    CELLS_DIFFER,  /* a release whose gate names one student more */
    ENDLESS,       /* page after page of shares of a group not in the setup */
};

/* Up to n of the hub's shares, as page entries u64be(ids[i]) || msg, in arena. */
static void page(struct scene *sc, struct ww_frame *f, const uint64_t *ids, uint32_t n,
                 uint8_t *arena)
{
    struct ww_buf all;
    ww_buf_init(&all, 0);
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(sc->hub->db, "SELECT msg FROM climate_shares ORDER BY id", -1, &st,
                                 NULL),
              SQLITE_OK);
    for (uint32_t i = 0; i < n; i++) {
        ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        uint8_t *o = arena + i * (8 + WW_SHARE_MSG_MAX);
        for (int j = 0; j < 8; j++)
            o[j] = (uint8_t)(ids[i] >> (56 - 8 * j));
        memcpy(o + 8, sqlite3_column_blob(st, 0), len);
        f->u.agg_shares.msg[f->u.agg_shares.n++] = (struct ww_slice){o, 8 + len};
    }
    sqlite3_finalize(st);
    ww_buf_free(&all);
}

/* A's gate and release for B's gate (encoded, len bytes), over every share up to upto; with
 * one student more in A's gate's first cell when `lie`. */
static void a_release(struct scene *sc, const uint8_t *bgate, size_t len, uint64_t upto, int lie,
                      struct ww_buf *gb, struct ww_buf *rb)
{
    struct ww_agg_summary peer = {0}, ga = {0}, ra = {0};
    struct ww_agg_setup su;
    struct ww_agg *a = NULL;
    ASSERT_OK(ww_agg_summary_decode(bgate, len, &peer));
    ASSERT_OK(ww_climate_setup(sc->hub, &su));
    ASSERT_OK(ww_climate_aggregate(sc->hub, &su, peer.k, upto, NULL, 0, &a));
    ASSERT_OK(ww_agg_gate(a, &ga));
    ASSERT_OK(ww_agg_release(a, &peer, &ra));
    if (lie)
        ga.cells[0].students++;
    ww_buf_init(gb, WW_MAX_FRAME);
    ww_buf_init(rb, WW_MAX_FRAME);
    ASSERT_OK(ww_agg_summary_encode(&ga, gb));
    ASSERT_OK(ww_agg_summary_encode(&ra, rb));
    ww_agg_summary_free(&peer);
    ww_agg_summary_free(&ga);
    ww_agg_summary_free(&ra);
    ww_agg_setup_free(&su);
    ww_agg_free(a);
}

/* The fake hub's answer to the reader's n-th AGG_GET (from 1). */
static void answer_get(struct scene *sc, struct rd *r, enum lie lie, int n, uint64_t last,
                       const struct ww_buf *setup, const uint8_t *foreign, size_t flen)
{
    static struct ww_frame f;
    static uint8_t arena[WW_MAX_AGG_PAGE * (8 + WW_SHARE_MSG_MAX)];
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_AGG_SHARES;
    f.u.agg_shares.upto = last;
    if (n == 1)
        f.u.agg_shares.setup = (struct ww_slice){setup->p, setup->len};
    uint64_t ids[6] = {1, 2, 3, 4, 5, 6};
    switch (lie) {
    case HONEST:
    case CELLS_DIFFER:
        page(sc, &f, ids, (uint32_t)last, arena);
        break;
    case NOT_ASCENDING:
        ids[0] = 2, ids[1] = 1;
        page(sc, &f, ids, 2, arena);
        break;
    case ABOVE_UPTO:
        ids[1] = last + 5;
        page(sc, &f, ids, 2, arena);
        break;
    case SETUP_AGAIN:
        f.u.agg_shares.setup = (struct ww_slice){setup->p, setup->len};
        ids[0] = (uint64_t)n;
        page(sc, &f, ids, 1, arena);
        f.u.agg_shares.more = n == 1;
        break;
    case EMPTY_MORE:
        f.u.agg_shares.more = 1;
        break;
    case GARBAGE_SETUP:
        f.u.agg_shares.setup = (struct ww_slice){junk, sizeof junk};
        page(sc, &f, ids, 1, arena);
        break;
    case RELEASE_EARLY:
        page(sc, &f, ids, 1, arena);
        f.u.agg_shares.more = 1;
        break;
    case ENDLESS:
        f.u.agg_shares.upto = UINT64_MAX / 2;
        for (uint32_t i = 0; i < WW_MAX_AGG_PAGE; i++) {
            uint8_t *o = arena + i * (8 + WW_SHARE_MSG_MAX);
            uint64_t id = (uint64_t)(n - 1) * WW_MAX_AGG_PAGE + i + 1;
            for (int j = 0; j < 8; j++)
                o[j] = (uint8_t)(id >> (56 - 8 * j));
            memcpy(o + 8, foreign, flen);
            f.u.agg_shares.msg[f.u.agg_shares.n++] = (struct ww_slice){o, 8 + flen};
        }
        f.u.agg_shares.more = 1;
        break;
    }
    rd_send(sc, r, &f, 1);
    if (lie == RELEASE_EARLY) {
        struct bside bs;
        struct ww_agg_summary bg = {0};
        struct ww_buf bb, gb, rb;
        b_build(sc, &bs, last, NULL, 0);
        ASSERT_OK(ww_agg_gate(bs.b, &bg));
        ww_buf_init(&bb, WW_MAX_FRAME);
        ASSERT_OK(ww_agg_summary_encode(&bg, &bb));
        a_release(sc, bb.p, bb.len, last, 0, &gb, &rb);
        memset(&f, 0, sizeof f);
        f.type = WW_FRAME_AGG_RELEASE;
        f.u.agg_release.gate = (struct ww_slice){gb.p, gb.len};
        f.u.agg_release.release = (struct ww_slice){rb.p, rb.len};
        rd_send(sc, r, &f, 1);
        ww_agg_summary_free(&bg);
        ww_buf_free(&bb);
        ww_buf_free(&gb);
        ww_buf_free(&rb);
        b_free(&bs);
    }
}

/* The reader's tool dials the fake hub; returns on_climate's rc, which must come within
 * 10 s. */
static int hostile_hub(enum lie lie)
{
    struct scene sc;
    scene_start(&sc, 3);
    uint64_t last = 0;
    ASSERT_OK(ww_climate_last(sc.hub, &last));
    ASSERT_EQ(last, 6);
    struct ww_agg_setup su;
    struct ww_buf setup;
    ASSERT_OK(ww_climate_setup(sc.hub, &su));
    ww_buf_init(&setup, WW_AGG_SETUP_MAX);
    ASSERT_OK(ww_agg_setup_encode(&su, &setup));
    ww_agg_setup_free(&su);
    /* A share of a group this hub does not serve. */
    uint8_t nym[32], gid[16];
    randombytes_buf(nym, sizeof nym);
    randombytes_buf(gid, sizeof gid);
    struct ww_agg_day day = {.date = sc.d, .status = WW_STATUS_DONE};
    struct ww_share_msg m;
    ASSERT_OK(ww_share_make(&day, gid, nym, sc.pk_a, sc.pk_b, NULL, NULL, &m));
    struct ww_buf foreign;
    ww_buf_init(&foreign, WW_SHARE_MSG_MAX);
    ASSERT_OK(ww_share_encode(&m, &foreign));

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(lfd >= 0);
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_OK(bind(lfd, (struct sockaddr *)&a, sizeof a));
    ASSERT_OK(listen(lfd, 4));
    ASSERT_OK(getsockname(lfd, (struct sockaddr *)&a, &alen));
    ASSERT_OK(fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK));

    struct got got;
    memset(&got, 0, sizeof got);
    got.window = ww_agg_window(sc.d);
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = sc.po;
    cfg.ud = &got;
    cfg.on_conn = loop_on_conn;
    cfg.on_climate = on_climate;
    struct ww_node *n = NULL;
    ASSERT_OK(ww_node_new(&sc.loop, &cfg, &n));
    ASSERT_OK(ww_node_climate(n, "127.0.0.1", ntohs(a.sin_port), sc.hubkey, 0));

    static struct rd r;
    memset(&r, 0, sizeof r);
    r.fd = -1;
    ww_buf_init(&r.gate, WW_MAX_FRAME);
    ww_buf_init(&r.rel, WW_MAX_FRAME);
    int answered = 0, gates = 0;
    uv_update_time(&sc.loop);
    /* A bound for a reader that never ends, not a speed target: an endless hub takes
     * 512 pages of 256 shares to refuse, which a loaded machine may take a while over. */
    uint64_t end = uv_now(&sc.loop) + 60000;
    while (!got.done && uv_now(&sc.loop) < end) {
        if (r.fd < 0) {
            uv_run(&sc.loop, UV_RUN_NOWAIT);
            if ((r.fd = accept(lfd, NULL, NULL)) >= 0) {
                ASSERT_OK(fcntl(r.fd, F_SETFL, fcntl(r.fd, F_GETFL) | O_NONBLOCK));
                struct ww_channel_id id;
                ww_store_device(sc.hub, id.device_pk);
                ww_store_dh_pk(sc.hub, id.static_pk);
                id.dh = rd_dh;
                id.ud = sc.hub;
                ASSERT_OK(
                    ww_channel_init_id(&r.ch, WW_CHANNEL_RESPONDER, &id, WW_CAP_SYNC | WW_CAP_AGG));
            }
        } else {
            rd_turn(&sc.loop, &r);
            if (r.closed) /* the reader shut its side: so does this one */
                shutdown(r.fd, SHUT_RDWR);
            while (!r.closed && answered < r.gets)
                answer_get(&sc, &r, lie, ++answered, last, &setup, foreign.p, foreign.len);
            if (!r.closed && gates < r.gates) {
                gates = r.gates;
                struct ww_buf gb, rb;
                a_release(&sc, r.gate.p, r.gate.len, r.gate_upto, lie == CELLS_DIFFER, &gb, &rb);
                struct ww_frame f;
                memset(&f, 0, sizeof f);
                f.type = WW_FRAME_AGG_RELEASE;
                f.u.agg_release.gate = (struct ww_slice){gb.p, gb.len};
                f.u.agg_release.release = (struct ww_slice){rb.p, rb.len};
                rd_send(&sc, &r, &f, 1);
                ww_buf_free(&gb);
                ww_buf_free(&rb);
            }
        }
        uv_update_time(&sc.loop);
    }
    fprintf(stderr, "# the fake hub answered %d AGG_GET and %d AGG_GATE; the reader's result: %s\n",
            answered, gates, got.done ? (got.rc ? ww_err_name(got.rc) : "a report") : "none");
    if (!got.done)
        ww_test_fail(__FILE__, __LINE__, "the reader's fetch gave no result in 60 s");
    ASSERT_EQ(got.done, 1);
    int rc = got.rc;
    if (r.fd >= 0)
        rd_close(&r);
    else {
        ww_buf_free(&r.gate);
        ww_buf_free(&r.rel);
    }
    int closed = 0;
    ww_node_close(n, loop_closed, &closed);
    loop_run_until(&sc.loop, &closed, 1);
    close(lfd);
    ww_buf_free(&setup);
    ww_buf_free(&foreign);
    scene_finish(&sc);
    return rc;
}

TEST(climate_fake_hub_honest_control)
{
    ASSERT_OK(hostile_hub(HONEST));
}

TEST(climate_fake_hub_ids_not_ascending)
{
    ASSERT(hostile_hub(NOT_ASCENDING) != 0);
}

TEST(climate_fake_hub_id_above_upto)
{
    ASSERT(hostile_hub(ABOVE_UPTO) != 0);
}

TEST(climate_fake_hub_setup_on_a_later_page)
{
    ASSERT(hostile_hub(SETUP_AGAIN) != 0);
}

TEST(climate_fake_hub_empty_page_with_more)
{
    ASSERT(hostile_hub(EMPTY_MORE) != 0);
}

TEST(climate_fake_hub_garbage_setup)
{
    ASSERT(hostile_hub(GARBAGE_SETUP) != 0);
}

TEST(climate_fake_hub_release_before_the_gate)
{
    ASSERT(hostile_hub(RELEASE_EARLY) != 0);
}

TEST(climate_fake_hub_release_whose_cells_differ)
{
    ASSERT(hostile_hub(CELLS_DIFFER) != 0);
}

TEST(climate_fake_hub_endless_pages_end)
{
    ASSERT(hostile_hub(ENDLESS) != 0);
}
