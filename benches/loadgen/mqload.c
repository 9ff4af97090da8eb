/*
 * mqload: a small MQTT 3.1.1 load generator that shares no code with the broker it
 * measures. Raw TCP, TCP_NODELAY, blocking sockets, one thread per client, packets
 * encoded once before the measured interval. Only libc and pthreads.
 *
 *   gcc -O2 -pthread -o mqload mqload.c
 *
 *   mqload fanin   [-P 4] [-s 64] [-q 0|1] [-w 16] [-d 3s]     P publishers -> 1 subscriber
 *   mqload fanout  [-K 8] [-s 64] [-q 0|1] [-d 3s]             1 publisher -> K subscribers
 *   mqload latency [-r 1000] [-s 64] [-q 0|1] [-d 3s]          paced publisher -> 1 subscriber
 *   mqload conn    [-c 1000] [-r 1000] [--hold 5s]             idle connections
 *   common: [-h 127.0.0.1] [-p 1883] [-t TOPIC] [-n COUNT per publisher]
 *
 * Every run prints one JSON object on stdout and a one-line summary on stderr. Any
 * connection failure, refused CONNACK/SUBACK, unexpected packet or malformed packet
 * ends the program with status 1 and a message on stderr. See README.md.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000ULL
#define MS 1000000ULL
#define RX_CAP (256 * 1024)        /* receive buffer of a subscriber or QoS 1 publisher */
#define RX_READ (64 * 1024)        /* most bytes taken by one recv(): the measured interval
                                      ends between two reads, so this bounds its error */
#define TX_BATCH (64 * 1024)       /* QoS 0 publishers write about this much per send() */
#define IO_TIMEOUT_MS 100          /* SO_RCVTIMEO / SO_SNDTIMEO: how often a blocked call wakes */
#define HANDSHAKE_NS (5 * NS)      /* CONNECT->CONNACK, SUBSCRIBE->SUBACK */
#define KEEPALIVE 600              /* seconds; no run may last that long (see MAX_DURATION) */
#define MAX_DURATION (300 * NS)
#define MAX_LAT_SAMPLES (16u * 1024 * 1024)

/* ---------------------------------------------------------------- helpers */

static void die(const char *fmt, ...)
{
    va_list ap;
    char msg[512];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "mqload: error: %s\n", msg);
    fflush(stderr);
    _exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
    struct timespec ts = {.tv_sec = (time_t)(t / NS), .tv_nsec = (long)(t % NS)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* "3s", "500ms", "2m", "1.5" (seconds) -> nanoseconds */
static uint64_t parse_duration(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        die("bad duration '%s'", s);
    if (strcmp(end, "ms") == 0)
        v /= 1000.0;
    else if (strcmp(end, "m") == 0)
        v *= 60.0;
    else if (*end != '\0' && strcmp(end, "s") != 0)
        die("bad duration '%s' (use e.g. 3s or 500ms)", s);
    return (uint64_t)(v * 1e9);
}

static long parse_num(const char *s, const char *what, long lo, long hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    /* accept a "/s" suffix for rates: "1000/s" */
    if (end == s || (*end != '\0' && strcmp(end, "/s") != 0) || v < lo || v > hi)
        die("bad %s '%s' (expected %ld..%ld)", what, s, lo, hi);
    return v;
}

/* ---------------------------------------------------------------- options */

static struct {
    const char *mode;
    const char *host;
    int port;
    int pubs, subs;          /* pubsub modes */
    int size;                /* payload bytes */
    int qos;                 /* 0 or 1 */
    int inflight;            /* QoS 1 window per publisher */
    uint64_t count;          /* messages per publisher, 0 = until --duration */
    uint64_t duration;       /* ns */
    long rate;               /* latency: msg/s; conn: connections/s (0 = as fast as possible) */
    int conns, threads;      /* conn mode */
    uint64_t hold;           /* conn mode: ns */
    uint64_t drain_idle;     /* stop draining after this long without a message */
    uint64_t drain_max;      /* ... or after this long in any case */
    const char *ready_file;  /* conn mode: created once all connections are up */
    char topic[256];
    struct sockaddr_storage addr;
    socklen_t addrlen;
} opt;

static void usage(int status)
{
    fprintf(status ? stderr : stdout,
            "usage: mqload MODE [options]\n"
            "modes:\n"
            "  fanin    P publishers -> 1 subscriber on one topic, as fast as possible\n"
            "  fanout   1 publisher -> K subscribers on one topic, as fast as possible\n"
            "  latency  1 publisher at --rate msg/s -> 1 subscriber: latency percentiles\n"
            "  conn     open --conns idle connections at --rate per second, hold them\n"
            "options:\n"
            "  -h, --host HOST         broker host (127.0.0.1)\n"
            "  -p, --port PORT         broker port (1883)\n"
            "  -P, --publishers N      publishers (fanin 4, otherwise 1)\n"
            "  -K, --subscribers N     subscribers (fanout 8, otherwise 1)\n"
            "  -s, --size BYTES        payload size (64; latency needs >= 16)\n"
            "  -q, --qos 0|1           QoS of the publishes and the subscription (0)\n"
            "  -w, --inflight N        QoS 1: unacknowledged PUBLISH per publisher (16)\n"
            "  -d, --duration D        how long publishers publish, e.g. 3s, 500ms (3s)\n"
            "  -n, --count N           each publisher stops after N messages (or at --duration)\n"
            "  -r, --rate R            latency: msg/s (1000); conn: connections/s, 0 = no pacing (1000)\n"
            "  -c, --conns N           conn: connections to open (1000)\n"
            "      --threads N         conn: threads opening connections (4)\n"
            "      --hold D            conn: keep the connections open this long (0)\n"
            "      --ready-file PATH   conn: create PATH once all connections are up\n"
            "  -t, --topic TOPIC       topic (mqload/<pid>/<mode>)\n"
            "      --drain-idle D      after the run, wait until nothing arrives for D (1s)\n"
            "      --drain-max D       ... but never longer than D (10s)\n"
            "      --help\n");
    exit(status);
}

static void parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, 0, 'h'},        {"port", required_argument, 0, 'p'},
        {"publishers", required_argument, 0, 'P'},  {"subscribers", required_argument, 0, 'K'},
        {"size", required_argument, 0, 's'},        {"qos", required_argument, 0, 'q'},
        {"inflight", required_argument, 0, 'w'},    {"duration", required_argument, 0, 'd'},
        {"rate", required_argument, 0, 'r'},        {"conns", required_argument, 0, 'c'},
        {"threads", required_argument, 0, 1},       {"hold", required_argument, 0, 2},
        {"ready-file", required_argument, 0, 3},    {"topic", required_argument, 0, 't'},
        {"drain-idle", required_argument, 0, 4},    {"drain-max", required_argument, 0, 5},
        {"help", no_argument, 0, 6},                {"count", required_argument, 0, 'n'},
        {0, 0, 0, 0}};
    if (argc < 2)
        usage(2);
    if (strcmp(argv[1], "--help") == 0)
        usage(0);
    opt.mode = argv[1];
    int fanin = strcmp(opt.mode, "fanin") == 0, fanout = strcmp(opt.mode, "fanout") == 0;
    int latency = strcmp(opt.mode, "latency") == 0, conn = strcmp(opt.mode, "conn") == 0;
    if (!fanin && !fanout && !latency && !conn)
        die("unknown mode '%s' (fanin, fanout, latency or conn)", opt.mode);
    opt.host = "127.0.0.1";
    opt.port = 1883;
    opt.pubs = fanin ? 4 : 1;
    opt.subs = fanout ? 8 : 1;
    opt.size = 64;
    opt.qos = 0;
    opt.inflight = 16;
    opt.duration = 3 * NS;
    opt.rate = 1000;
    opt.conns = 1000;
    opt.threads = 4;
    opt.drain_idle = 1 * NS;
    opt.drain_max = 10 * NS;
    snprintf(opt.topic, sizeof opt.topic, "mqload/%d/%s", (int)getpid(), opt.mode);

    optind = 2;
    int c;
    while ((c = getopt_long(argc, argv, "h:p:P:K:s:q:w:d:r:c:t:n:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': opt.host = optarg; break;
        case 'p': opt.port = (int)parse_num(optarg, "port", 1, 65535); break;
        case 'P': opt.pubs = (int)parse_num(optarg, "publisher count", 1, 1000); break;
        case 'K': opt.subs = (int)parse_num(optarg, "subscriber count", 1, 1000); break;
        case 's': opt.size = (int)parse_num(optarg, "payload size", 0, 65536); break;
        case 'q': opt.qos = (int)parse_num(optarg, "QoS (only 0 and 1)", 0, 1); break;
        case 'w': opt.inflight = (int)parse_num(optarg, "in-flight window", 1, 65535); break;
        case 'd': opt.duration = parse_duration(optarg); break;
        case 'n': opt.count = (uint64_t)parse_num(optarg, "message count", 1, 1000000000); break;
        case 'r': opt.rate = parse_num(optarg, "rate", 0, 10000000); break;
        case 'c': opt.conns = (int)parse_num(optarg, "connection count", 1, 1000000); break;
        case 't':
            if (strlen(optarg) == 0 || strlen(optarg) >= sizeof opt.topic || strpbrk(optarg, "+#"))
                die("bad topic '%s' (non-empty, no wildcards, < %zu bytes)", optarg, sizeof opt.topic);
            strcpy(opt.topic, optarg);
            break;
        case 1: opt.threads = (int)parse_num(optarg, "thread count", 1, 256); break;
        case 2: opt.hold = parse_duration(optarg); break;
        case 3: opt.ready_file = optarg; break;
        case 4: opt.drain_idle = parse_duration(optarg); break;
        case 5: opt.drain_max = parse_duration(optarg); break;
        case 6: usage(0); break;
        default: usage(2);
        }
    }
    if (optind != argc)
        die("unexpected argument '%s'", argv[optind]);
    if (opt.duration == 0 || opt.duration > MAX_DURATION)
        die("--duration must be > 0 and <= 300s (the clients' keepalive is %ds)", KEEPALIVE);
    if (opt.drain_max > 60 * NS || opt.hold > MAX_DURATION)
        die("--drain-max is at most 60s, --hold at most 300s");
    if (latency && opt.size < 16)
        die("latency needs --size >= 16 (sequence number and timestamp)");
    if (latency && opt.rate == 0)
        die("latency needs --rate > 0");

    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    char port[16];
    snprintf(port, sizeof port, "%d", opt.port);
    int rc = getaddrinfo(opt.host, port, &hints, &res);
    if (rc != 0)
        die("cannot resolve %s: %s", opt.host, gai_strerror(rc));
    memcpy(&opt.addr, res->ai_addr, res->ai_addrlen);
    opt.addrlen = res->ai_addrlen;
    freeaddrinfo(res);
}

/* ---------------------------------------------------------------- sockets */

static void set_timeouts(int fd, uint64_t ns)
{
    struct timeval tv = {.tv_sec = (time_t)(ns / NS), .tv_usec = (suseconds_t)(ns % NS / 1000)};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        die("setsockopt timeouts: %s", strerror(errno));
}

/* A connected TCP socket with TCP_NODELAY whose blocking calls wake every IO_TIMEOUT_MS. */
static int tcp_connect(const char *who)
{
    int fd = socket(opt.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("%s: socket: %s", who, strerror(errno));
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        die("%s: TCP_NODELAY: %s", who, strerror(errno));
    set_timeouts(fd, HANDSHAKE_NS); /* SO_SNDTIMEO also bounds connect() on Linux */
    if (connect(fd, (struct sockaddr *)&opt.addr, opt.addrlen) < 0)
        die("%s: connect to %s:%d: %s", who, opt.host, opt.port, strerror(errno));
    set_timeouts(fd, IO_TIMEOUT_MS * MS);
    return fd;
}

/* Write all n bytes; a write that makes no progress until `limit` is an error. */
static void write_all(int fd, const uint8_t *p, size_t n, uint64_t limit, const char *who)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (now_ns() > limit)
                die("%s: the broker has not read from the socket for too long", who);
        } else {
            die("%s: write: %s", who, w < 0 ? strerror(errno) : "wrote nothing");
        }
    }
}

/* Incoming bytes: buf[start..end) is received and not yet parsed. */
struct rx {
    uint8_t *buf;
    size_t cap, start, end;
};

/* Read more bytes. Returns the count, or 0 when the read timed out (IO_TIMEOUT_MS).
 * The broker closing the connection is an error. */
static size_t rx_fill(int fd, struct rx *r, const char *who)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end == r->cap)
        die("%s: receive buffer full (cannot happen: packets are bounded by it)", who);
    size_t room = r->cap - r->end < RX_READ ? r->cap - r->end : RX_READ;
    ssize_t n = recv(fd, r->buf + r->end, room, 0);
    if (n > 0) {
        r->end += (size_t)n;
        return (size_t)n;
    }
    if (n == 0)
        die("%s: the broker closed the connection", who);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    die("%s: read: %s", who, strerror(errno));
    return 0;
}

/* Take one complete packet off the buffer: its first byte, its body (after the
 * remaining length) and the body's length. Returns 0 if the packet is not complete. */
static int next_packet(struct rx *r, uint8_t *hdr, const uint8_t **body, size_t *len,
                       const char *who)
{
    const uint8_t *p = r->buf + r->start;
    size_t avail = r->end - r->start, i = 1, n = 0, mul = 1;
    if (avail < 2)
        return 0;
    for (;;) {
        if (i == 5)
            die("%s: malformed remaining length (more than 4 bytes)", who);
        if (i >= avail)
            return 0;
        uint8_t b = p[i++];
        n += (size_t)(b & 0x7f) * mul;
        mul *= 128;
        if (!(b & 0x80))
            break;
    }
    if (n > r->cap - 5)
        die("%s: packet of %zu bytes (first byte 0x%02x) is larger than expected", who, n, p[0]);
    if (avail < i + n)
        return 0;
    *hdr = p[0];
    *body = p + i;
    *len = n;
    r->start += i + n;
    return 1;
}

/* Wait for one complete packet, up to `limit`. */
static void wait_packet(int fd, struct rx *r, uint8_t *hdr, const uint8_t **body, size_t *len,
                        uint64_t limit, const char *who, const char *what)
{
    while (!next_packet(r, hdr, body, len, who)) {
        if (now_ns() > limit)
            die("%s: no %s from the broker within %llu s", who, what,
                (unsigned long long)(HANDSHAKE_NS / NS));
        rx_fill(fd, r, who);
    }
}

/* ---------------------------------------------------------------- MQTT 3.1.1 encoding */

static size_t put_varint(uint8_t *p, size_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v % 128;
        v /= 128;
        if (v)
            b |= 0x80;
        p[n++] = b;
    } while (v);
    return n;
}

static size_t put_str(uint8_t *p, const char *s, size_t len)
{
    p[0] = (uint8_t)(len >> 8);
    p[1] = (uint8_t)len;
    memcpy(p + 2, s, len);
    return 2 + len;
}

/* PUBLISH with a payload of `size` bytes; returns its length. The packet id (QoS 1)
 * sits at out + publish_pid_offset(), the payload at out + len - size. */
static size_t encode_publish(uint8_t *out, int qos, uint16_t pid, const uint8_t *payload, size_t size)
{
    size_t tlen = strlen(opt.topic);
    size_t rem = 2 + tlen + (qos ? 2 : 0) + size;
    size_t n = 0;
    out[n++] = (uint8_t)(0x30 | (qos << 1));
    n += put_varint(out + n, rem);
    n += put_str(out + n, opt.topic, tlen);
    if (qos) {
        out[n++] = (uint8_t)(pid >> 8);
        out[n++] = (uint8_t)pid;
    }
    memcpy(out + n, payload, size);
    return n + size;
}

static size_t publish_len(int qos)
{
    uint8_t tmp[8];
    size_t rem = 2 + strlen(opt.topic) + (qos ? 2 : 0) + (size_t)opt.size;
    return 1 + put_varint(tmp, rem) + rem;
}

/* CONNECT (clean session, no will, no credentials) and its CONNACK. */
static void mqtt_connect(int fd, const char *client_id, struct rx *r, const char *who)
{
    uint8_t pkt[300];
    size_t idlen = strlen(client_id), n = 0;
    pkt[n++] = 0x10;
    n += put_varint(pkt + n, 10 + 2 + idlen);
    n += put_str(pkt + n, "MQTT", 4);
    pkt[n++] = 4;    /* protocol level: 3.1.1 */
    pkt[n++] = 0x02; /* clean session */
    pkt[n++] = KEEPALIVE >> 8;
    pkt[n++] = KEEPALIVE & 0xff;
    n += put_str(pkt + n, client_id, idlen);
    uint64_t limit = now_ns() + HANDSHAKE_NS;
    write_all(fd, pkt, n, limit, who);

    uint8_t hdr;
    const uint8_t *body;
    size_t len;
    wait_packet(fd, r, &hdr, &body, &len, limit, who, "CONNACK");
    if (hdr != 0x20 || len != 2)
        die("%s: expected CONNACK, got packet 0x%02x of %zu bytes", who, hdr, len);
    if (body[1] != 0)
        die("%s: the broker refused the connection (CONNACK return code %u)", who, body[1]);
}

static void mqtt_subscribe(int fd, struct rx *r, int qos, const char *who)
{
    uint8_t pkt[300];
    size_t tlen = strlen(opt.topic), n = 0;
    pkt[n++] = 0x82;
    n += put_varint(pkt + n, 2 + 2 + tlen + 1);
    pkt[n++] = 0;
    pkt[n++] = 1; /* packet id 1 */
    n += put_str(pkt + n, opt.topic, tlen);
    pkt[n++] = (uint8_t)qos;
    uint64_t limit = now_ns() + HANDSHAKE_NS;
    write_all(fd, pkt, n, limit, who);

    uint8_t hdr;
    const uint8_t *body;
    size_t len;
    wait_packet(fd, r, &hdr, &body, &len, limit, who, "SUBACK");
    if (hdr != 0x90 || len != 3 || body[0] != 0 || body[1] != 1)
        die("%s: expected SUBACK for packet id 1, got packet 0x%02x of %zu bytes", who, hdr, len);
    if (body[2] != qos)
        die("%s: SUBACK granted QoS %u (0x80 = refused), asked for %d", who, body[2], qos);
}

static const uint8_t disconnect_pkt[2] = {0xe0, 0x00};

/* ---------------------------------------------------------------- pub/sub modes */

/* Shared between the threads of one run. */
static uint64_t t_start, t_end;                 /* publishing interval */
static pthread_barrier_t connected, go;
static atomic_ullong total_sent;                /* added by each publisher when it is done */
static atomic_int pubs_done;

struct pub {
    int idx, fd;
    uint64_t sent, acked, unacked;
    pthread_t th;
};

struct sub {
    int idx, fd;
    uint64_t received, t_first, win_count, win_end;
    int windowed;
    int drain_end; /* 0 everything arrived, 1 nothing for --drain-idle, 2 --drain-max reached */
    /* latency mode */
    uint64_t *lat;
    size_t nlat, lat_cap, lat_dropped;
    uint64_t last_seq, reordered;
    pthread_t th;
};

static void fill_payload(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)('a' + i % 26);
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* QoS 1 publisher bookkeeping: packet ids 1..window, busy[] marks the unacknowledged. */
struct window {
    int size, inflight;
    uint8_t *busy;
};

/* Handle every complete PUBACK in r; for each, call on_free(pid). */
static void read_pubacks(struct pub *p, struct rx *r, struct window *w, const char *who,
                         void (*on_free)(void *ctx, uint16_t pid), void *ctx)
{
    uint8_t hdr;
    const uint8_t *body;
    size_t len;
    while (next_packet(r, &hdr, &body, &len, who)) {
        if (hdr != 0x40 || len != 2)
            die("%s: expected PUBACK, got packet 0x%02x of %zu bytes", who, hdr, len);
        uint16_t pid = (uint16_t)(body[0] << 8 | body[1]);
        if (pid < 1 || pid > w->size || !w->busy[pid - 1])
            die("%s: PUBACK for packet id %u, which is not in flight", who, pid);
        w->busy[pid - 1] = 0;
        w->inflight--;
        p->acked++;
        if (on_free)
            on_free(ctx, pid);
    }
}

/* After the interval: wait for the outstanding PUBACKs, up to t_end + drain_max. */
static void await_pubacks(struct pub *p, struct rx *r, struct window *w, const char *who)
{
    uint64_t limit = t_end + opt.drain_max;
    while (w->inflight > 0 && now_ns() < limit) {
        read_pubacks(p, r, w, who, NULL, NULL);
        if (w->inflight > 0)
            rx_fill(p->fd, r, who);
    }
    read_pubacks(p, r, w, who, NULL, NULL);
    p->unacked = (uint64_t)w->inflight;
}

/* QoS 0, as fast as the socket takes: the same batch of identical packets, written
 * again and again. sent = whole packets written before t_end (a packet cut by t_end is
 * completed, then counted). */
static void publish_qos0(struct pub *p, const char *who)
{
    size_t plen = publish_len(0);
    size_t per_batch = TX_BATCH / plen ? TX_BATCH / plen : 1;
    size_t blen = per_batch * plen;
    uint8_t *batch = malloc(blen), *payload = malloc((size_t)opt.size + 1);
    if (!batch || !payload)
        die("out of memory");
    fill_payload(payload, (size_t)opt.size);
    for (size_t i = 0; i < per_batch; i++)
        encode_publish(batch + i * plen, 0, 0, payload, (size_t)opt.size);

    uint64_t bytes = 0, stop = opt.count ? opt.count * plen : UINT64_MAX;
    size_t off = 0; /* position in batch */
    while (bytes < stop && now_ns() < t_end) {
        size_t want = blen - off;
        if (stop - bytes < want)
            want = (size_t)(stop - bytes);
        ssize_t w = send(p->fd, batch + off, want, MSG_NOSIGNAL);
        if (w > 0) {
            bytes += (uint64_t)w;
            off += (size_t)w;
            if (off == blen)
                off = 0;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            continue;
        } else {
            die("%s: write: %s", who, w < 0 ? strerror(errno) : "wrote nothing");
        }
    }
    size_t cut = (size_t)(bytes % plen);
    if (cut) { /* finish the packet that was being written; packets are aligned in batch */
        write_all(p->fd, batch + off, plen - cut, t_end + opt.drain_max, who);
        bytes += plen - cut;
    }
    p->sent = bytes / plen;
    free(batch);
    free(payload);
}

struct q1ctx {
    struct pub *p;
    struct window *w;
    const uint8_t *pkts;
    size_t plen;
    uint8_t *out;
    size_t outlen;
};

static void q1_resend(void *vctx, uint16_t pid)
{
    struct q1ctx *c = vctx;
    if ((opt.count && c->p->sent >= opt.count) || now_ns() >= t_end)
        return;
    memcpy(c->out + c->outlen, c->pkts + (size_t)(pid - 1) * c->plen, c->plen);
    c->outlen += c->plen;
    c->w->busy[pid - 1] = 1;
    c->w->inflight++;
    c->p->sent++;
}

/* QoS 1: `inflight` packets, one per packet id, encoded once; each PUBACK frees its
 * id and the same packet is sent again (a new message: DUP is 0). */
static void publish_qos1(struct pub *p, const char *who)
{
    size_t plen = publish_len(1);
    struct window w = {.size = opt.inflight, .inflight = 0, .busy = calloc((size_t)opt.inflight, 1)};
    uint8_t *pkts = malloc((size_t)opt.inflight * plen), *payload = malloc((size_t)opt.size + 1);
    /* one read of RX_CAP bytes holds at most RX_CAP/4 PUBACKs, but only `inflight` can
     * be outstanding, so the out buffer needs room for `inflight` packets */
    uint8_t *out = malloc((size_t)opt.inflight * plen);
    struct rx r = {.buf = malloc(RX_CAP), .cap = RX_CAP};
    if (!w.busy || !pkts || !payload || !out || !r.buf)
        die("out of memory");
    fill_payload(payload, (size_t)opt.size);
    for (int i = 0; i < opt.inflight; i++)
        encode_publish(pkts + (size_t)i * plen, 1, (uint16_t)(i + 1), payload, (size_t)opt.size);

    struct q1ctx c = {.p = p, .w = &w, .pkts = pkts, .plen = plen, .out = out};
    for (int i = 0; i < opt.inflight; i++)
        q1_resend(&c, (uint16_t)(i + 1));
    uint64_t limit = t_end + opt.drain_max;
    write_all(p->fd, out, c.outlen, limit, who);
    while (w.inflight > 0 && now_ns() < t_end) {
        rx_fill(p->fd, &r, who);
        c.outlen = 0;
        read_pubacks(p, &r, &w, who, q1_resend, &c);
        if (c.outlen)
            write_all(p->fd, out, c.outlen, limit, who);
    }
    await_pubacks(p, &r, &w, who);
    free(w.busy);
    free(pkts);
    free(payload);
    free(out);
    free(r.buf);
}

/* latency: one packet, re-stamped (sequence number, CLOCK_MONOTONIC ns) before each
 * send at absolute deadlines t_start + i/rate. At QoS 1 the window still applies: if
 * it is full at a deadline, the publisher waits for a PUBACK (and the message is late,
 * which its timestamp - taken at the send - does not show). */
static void publish_paced(struct pub *p, const char *who)
{
    size_t plen = publish_len(opt.qos);
    uint8_t *pkt = malloc(plen), *payload = malloc((size_t)opt.size);
    struct window w = {.size = opt.inflight, .inflight = 0, .busy = calloc((size_t)opt.inflight, 1)};
    struct rx r = {.buf = malloc(RX_CAP), .cap = RX_CAP};
    if (!pkt || !payload || !w.busy || !r.buf)
        die("out of memory");
    fill_payload(payload, (size_t)opt.size);
    encode_publish(pkt, opt.qos, 1, payload, (size_t)opt.size);
    size_t pay_off = plen - (size_t)opt.size, pid_off = pay_off - 2;
    uint64_t limit = t_end + opt.drain_max;
    int next_id = 0;

    for (uint64_t i = 0;; i++) {
        uint64_t deadline = t_start + (uint64_t)((unsigned __int128)i * NS / (uint64_t)opt.rate);
        if (deadline >= t_end || (opt.count && i >= opt.count))
            break;
        sleep_until(deadline);
        if (opt.qos) {
            /* collect PUBACKs without blocking, then wait if the window is full */
            for (;;) {
                if (r.start > 0) { /* compact: what is left is less than one packet */
                    memmove(r.buf, r.buf + r.start, r.end - r.start);
                    r.end -= r.start;
                    r.start = 0;
                }
                ssize_t n = recv(p->fd, r.buf + r.end, r.cap - r.end, MSG_DONTWAIT);
                if (n > 0)
                    r.end += (size_t)n;
                else if (n == 0)
                    die("%s: the broker closed the connection", who);
                else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                    die("%s: read: %s", who, strerror(errno));
                read_pubacks(p, &r, &w, who, NULL, NULL);
                if (n > 0)
                    continue; /* there may be more */
                if (w.inflight < w.size)
                    break;
                if (now_ns() > limit)
                    die("%s: no PUBACK within the run's bounds", who);
                rx_fill(p->fd, &r, who); /* window full: wait (up to IO_TIMEOUT_MS) */
            }
            while (w.busy[next_id])
                next_id = (next_id + 1) % w.size;
            w.busy[next_id] = 1;
            w.inflight++;
            pkt[pid_off] = (uint8_t)((next_id + 1) >> 8);
            pkt[pid_off + 1] = (uint8_t)(next_id + 1);
        }
        put_u64(pkt + pay_off, i);
        put_u64(pkt + pay_off + 8, now_ns());
        write_all(p->fd, pkt, plen, limit, who);
        p->sent++;
    }
    if (opt.qos)
        await_pubacks(p, &r, &w, who);
    free(pkt);
    free(payload);
    free(w.busy);
    free(r.buf);
}

static void *pub_thread(void *arg)
{
    struct pub *p = arg;
    char who[64], id[64];
    snprintf(who, sizeof who, "publisher %d", p->idx);
    snprintf(id, sizeof id, "mqload-%d-p%d", (int)getpid(), p->idx);
    uint8_t hbuf[64];
    struct rx r = {.buf = hbuf, .cap = sizeof hbuf};
    p->fd = tcp_connect(who);
    mqtt_connect(p->fd, id, &r, who);
    if (r.end != r.start)
        die("%s: unexpected bytes after CONNACK", who);
    pthread_barrier_wait(&connected);
    pthread_barrier_wait(&go);

    if (strcmp(opt.mode, "latency") == 0)
        publish_paced(p, who);
    else if (opt.qos == 0)
        publish_qos0(p, who);
    else
        publish_qos1(p, who);
    atomic_fetch_add(&total_sent, p->sent);
    atomic_fetch_add(&pubs_done, 1);
    return NULL; /* the connection stays open until every subscriber has drained */
}

/* One PUBLISH delivered to a subscriber: check it and count it. Returns its packet id
 * (0 at QoS 0). */
static uint16_t take_publish(struct sub *s, uint8_t hdr, const uint8_t *body, size_t len,
                             uint64_t t_rx, const char *who)
{
    int qos = (hdr >> 1) & 3;
    size_t tlen = strlen(opt.topic);
    if (qos > opt.qos)
        die("%s: delivery at QoS %d on a QoS %d subscription", who, qos, opt.qos);
    if (len < 2 || (size_t)(body[0] << 8 | body[1]) != tlen || len < 2 + tlen + (qos ? 2u : 0u) ||
        memcmp(body + 2, opt.topic, tlen) != 0)
        die("%s: PUBLISH on an unexpected topic", who);
    uint16_t pid = 0;
    size_t off = 2 + tlen;
    if (qos) {
        pid = (uint16_t)(body[off] << 8 | body[off + 1]);
        if (pid == 0)
            die("%s: QoS 1 PUBLISH with packet id 0", who);
        off += 2;
    }
    if (len - off != (size_t)opt.size)
        die("%s: payload of %zu bytes, expected %d", who, len - off, opt.size);
    if (s->received == 0)
        s->t_first = t_rx;
    s->received++;
    if (s->lat) {
        uint64_t seq = get_u64(body + off), sent = get_u64(body + off + 8);
        if (s->received > 1 && seq <= s->last_seq)
            s->reordered++;
        s->last_seq = seq;
        if (s->nlat < s->lat_cap)
            s->lat[s->nlat++] = t_rx - sent;
        else
            s->lat_dropped++;
    }
    return pid;
}

static void *sub_thread(void *arg)
{
    struct sub *s = arg;
    char who[64], id[64];
    snprintf(who, sizeof who, "subscriber %d", s->idx);
    snprintf(id, sizeof id, "mqload-%d-s%d", (int)getpid(), s->idx);
    struct rx r = {.buf = malloc(RX_CAP), .cap = RX_CAP};
    size_t ackcap = 64 * 1024, acklen = 0;
    uint8_t *acks = malloc(ackcap);
    if (!r.buf || !acks)
        die("out of memory");
    s->fd = tcp_connect(who);
    mqtt_connect(s->fd, id, &r, who);
    mqtt_subscribe(s->fd, &r, opt.qos, who);
    if (r.end != r.start)
        die("%s: unexpected bytes after SUBACK", who);
    pthread_barrier_wait(&connected);
    pthread_barrier_wait(&go);

    uint64_t last_rx = 0, limit = t_end + opt.drain_max;
    for (;;) {
        size_t n = rx_fill(s->fd, &r, who);
        uint64_t now = now_ns();
        if (now >= t_end && !s->windowed) {
            /* the measured interval ends at t_end: what this read brought is not in it */
            s->windowed = 1;
            s->win_count = s->received;
            s->win_end = t_end;
        }
        if (n > 0) {
            last_rx = now;
            uint8_t hdr;
            const uint8_t *body;
            size_t len;
            while (next_packet(&r, &hdr, &body, &len, who)) {
                if ((hdr >> 4) == 3) {
                    uint16_t pid = take_publish(s, hdr, body, len, now, who);
                    if (pid) {
                        uint8_t ack[4] = {0x40, 0x02, (uint8_t)(pid >> 8), (uint8_t)pid};
                        memcpy(acks + acklen, ack, 4);
                        acklen += 4;
                        if (acklen + 4 > ackcap) {
                            write_all(s->fd, acks, acklen, limit, who);
                            acklen = 0;
                        }
                    }
                } else {
                    die("%s: unexpected packet 0x%02x of %zu bytes", who, hdr, len);
                }
            }
            if (acklen) {
                write_all(s->fd, acks, acklen, limit, who);
                acklen = 0;
            }
        }
        if (atomic_load(&pubs_done) == opt.pubs && s->received >= atomic_load(&total_sent)) {
            if (!s->windowed) { /* --count: everything arrived before t_end */
                s->windowed = 1;
                s->win_count = s->received;
                s->win_end = now;
            }
            s->drain_end = 0;
            break; /* everything sent has arrived */
        }
        if (now >= t_end) {
            uint64_t quiet_since = last_rx > t_end ? last_rx : t_end;
            if (now - quiet_since >= opt.drain_idle) {
                s->drain_end = 1;
                break;
            }
            if (now >= limit) {
                s->drain_end = 2;
                break;
            }
        }
    }
    free(r.buf);
    free(acks);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* nearest-rank percentile of sorted v[0..n), in microseconds */
static double pct_us(const uint64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)(q * (double)n + 0.999999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return (double)v[k - 1] / 1e3;
}

static void run_pubsub(void)
{
    int latency = strcmp(opt.mode, "latency") == 0;
    struct pub *pubs = calloc((size_t)opt.pubs, sizeof *pubs);
    struct sub *subs = calloc((size_t)opt.subs, sizeof *subs);
    if (!pubs || !subs)
        die("out of memory");
    pthread_barrier_init(&connected, NULL, (unsigned)(opt.pubs + opt.subs + 1));
    pthread_barrier_init(&go, NULL, (unsigned)(opt.pubs + opt.subs + 1));
    for (int i = 0; i < opt.subs; i++) {
        subs[i].idx = i;
        if (latency) {
            double expect = (double)opt.rate * (double)opt.duration / 1e9 * 1.1 + 1000;
            subs[i].lat_cap = expect < MAX_LAT_SAMPLES ? (size_t)expect : MAX_LAT_SAMPLES;
            subs[i].lat = malloc(subs[i].lat_cap * sizeof(uint64_t));
            if (!subs[i].lat)
                die("out of memory");
        }
        if (pthread_create(&subs[i].th, NULL, sub_thread, &subs[i]) != 0)
            die("pthread_create failed");
    }
    for (int i = 0; i < opt.pubs; i++) {
        pubs[i].idx = i;
        if (pthread_create(&pubs[i].th, NULL, pub_thread, &pubs[i]) != 0)
            die("pthread_create failed");
    }
    pthread_barrier_wait(&connected); /* every client connected, every subscription acked */
    t_start = now_ns();
    t_end = t_start + opt.duration;
    pthread_barrier_wait(&go);

    for (int i = 0; i < opt.pubs; i++)
        pthread_join(pubs[i].th, NULL);
    for (int i = 0; i < opt.subs; i++)
        pthread_join(subs[i].th, NULL);
    uint64_t t_done = now_ns();
    for (int i = 0; i < opt.pubs; i++) {
        write_all(pubs[i].fd, disconnect_pkt, 2, t_done + NS, "publisher");
        close(pubs[i].fd);
    }
    for (int i = 0; i < opt.subs; i++) {
        write_all(subs[i].fd, disconnect_pkt, 2, t_done + NS, "subscriber");
        close(subs[i].fd);
    }

    uint64_t sent = 0, acked = 0, unacked = 0, received = 0, win_count = 0;
    uint64_t first = UINT64_MAX, win_end = 0;
    int drain_end = 0;
    for (int i = 0; i < opt.pubs; i++) {
        sent += pubs[i].sent;
        acked += pubs[i].acked;
        unacked += pubs[i].unacked;
    }
    for (int i = 0; i < opt.subs; i++) {
        received += subs[i].received;
        win_count += subs[i].win_count;
        if (subs[i].received && subs[i].t_first < first)
            first = subs[i].t_first;
        if (subs[i].win_end > win_end)
            win_end = subs[i].win_end;
        if (subs[i].drain_end > drain_end)
            drain_end = subs[i].drain_end;
    }
    uint64_t expected = sent * (uint64_t)opt.subs;
    /* measured interval: from the first delivery (to any subscriber) to t_end, or to
     * the last subscriber's end if everything arrived earlier (--count) */
    double window_s = (first != UINT64_MAX && win_end > first) ? (double)(win_end - first) / 1e9 : 0;
    double drain_s = t_done > t_end ? (double)(t_done - t_end) / 1e9 : 0;
    double dur_s = (double)opt.duration / 1e9;

    printf("{\"mode\":\"%s\",\"params\":{\"host\":\"%s\",\"port\":%d,\"publishers\":%d,"
           "\"subscribers\":%d,\"qos\":%d,\"size\":%d,\"topic\":\"%s\",\"duration_s\":%.3f",
           opt.mode, opt.host, opt.port, opt.pubs, opt.subs, opt.qos, opt.size, opt.topic, dur_s);
    if (opt.qos)
        printf(",\"inflight\":%d", opt.inflight);
    if (opt.count)
        printf(",\"count\":%llu", (unsigned long long)opt.count);
    if (latency)
        printf(",\"rate\":%ld", opt.rate);
    printf("},\"figures\":{\"sent\":%llu,\"sent_per_s\":%.0f", (unsigned long long)sent,
           (double)sent / dur_s);
    if (opt.qos)
        printf(",\"acked\":%llu,\"unacked\":%llu", (unsigned long long)acked,
               (unsigned long long)unacked);
    printf(",\"expected\":%llu,\"received\":%llu,\"lost\":%lld,\"received_in_window\":%llu,"
           "\"window_s\":%.3f,\"received_per_s\":%.0f,\"drain_s\":%.3f,\"drain_end\":\"%s\"",
           (unsigned long long)expected, (unsigned long long)received,
           (long long)(expected - received), (unsigned long long)win_count, window_s,
           window_s > 0 ? (double)win_count / window_s : 0.0, drain_s,
           drain_end == 0 ? "complete" : drain_end == 1 ? "idle" : "limit");

    if (latency) {
        struct sub *s = &subs[0];
        qsort(s->lat, s->nlat, sizeof(uint64_t), cmp_u64);
        double sum = 0;
        for (size_t i = 0; i < s->nlat; i++)
            sum += (double)s->lat[i];
        printf(",\"latency_us\":{\"samples\":%zu,\"dropped_samples\":%zu,\"min\":%.1f,\"p50\":%.1f,"
               "\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f,\"mean\":%.1f},\"reordered\":%llu",
               s->nlat, s->lat_dropped, pct_us(s->lat, s->nlat, 0), pct_us(s->lat, s->nlat, 0.5),
               pct_us(s->lat, s->nlat, 0.9), pct_us(s->lat, s->nlat, 0.99),
               pct_us(s->lat, s->nlat, 1.0), s->nlat ? sum / (double)s->nlat / 1e3 : 0.0,
               (unsigned long long)s->reordered);
        fprintf(stderr,
                "mqload latency: %ld msg/s for %.1f s, QoS %d, %d B: sent %llu, received %llu, "
                "p50 %.0f us, p99 %.0f us, max %.0f us\n",
                opt.rate, dur_s, opt.qos, opt.size, (unsigned long long)sent,
                (unsigned long long)received, pct_us(s->lat, s->nlat, 0.5),
                pct_us(s->lat, s->nlat, 0.99), pct_us(s->lat, s->nlat, 1.0));
    } else {
        fprintf(stderr,
                "mqload %s: %d pub -> %d sub, QoS %d, %d B, %.1f s: sent %llu, received %llu "
                "(%.0f/s over %.2f s), lost %lld\n",
                opt.mode, opt.pubs, opt.subs, opt.qos, opt.size, dur_s, (unsigned long long)sent,
                (unsigned long long)received, window_s > 0 ? (double)win_count / window_s : 0.0,
                window_s, (long long)(expected - received));
    }
    if (drain_end == 2)
        fprintf(stderr, "mqload: note: deliveries were still arriving when --drain-max ended the "
                        "drain, so 'lost' counts some that were only late\n");
    printf("}}\n");
    fflush(stdout);
}

/* ---------------------------------------------------------------- conn mode */

static int *conn_fds;
static uint64_t *conn_ns;
static uint64_t conn_start;

struct opener {
    int idx;
    pthread_t th;
};

/* Connection i is opened by thread i % threads at conn_start + i / rate. */
static void *opener_thread(void *arg)
{
    struct opener *o = arg;
    char who[64], id[64];
    for (int i = o->idx; i < opt.conns; i += opt.threads) {
        if (opt.rate > 0)
            sleep_until(conn_start + (uint64_t)((unsigned __int128)i * NS / (uint64_t)opt.rate));
        snprintf(who, sizeof who, "connection %d", i);
        snprintf(id, sizeof id, "mqload-%d-c%d", (int)getpid(), i);
        uint8_t hbuf[64];
        struct rx r = {.buf = hbuf, .cap = sizeof hbuf};
        uint64_t t0 = now_ns();
        int fd = tcp_connect(who);
        mqtt_connect(fd, id, &r, who);
        conn_ns[i] = now_ns() - t0;
        if (r.end != r.start)
            die("%s: unexpected bytes after CONNACK", who);
        conn_fds[i] = fd;
    }
    return NULL;
}

static void run_conn(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)opt.conns + 64) {
        if (rl.rlim_max < (rlim_t)opt.conns + 64)
            die("%d connections need %d file descriptors; the hard limit is %llu", opt.conns,
                opt.conns + 64, (unsigned long long)rl.rlim_max);
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            die("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
    }
    if (opt.threads > opt.conns)
        opt.threads = opt.conns;
    conn_fds = malloc((size_t)opt.conns * sizeof *conn_fds);
    conn_ns = malloc((size_t)opt.conns * sizeof *conn_ns);
    struct opener *ops = calloc((size_t)opt.threads, sizeof *ops);
    if (!conn_fds || !conn_ns || !ops)
        die("out of memory");
    conn_start = now_ns();
    for (int t = 0; t < opt.threads; t++) {
        ops[t].idx = t;
        if (pthread_create(&ops[t].th, NULL, opener_thread, &ops[t]) != 0)
            die("pthread_create failed");
    }
    for (int t = 0; t < opt.threads; t++)
        pthread_join(ops[t].th, NULL);
    double open_s = (double)(now_ns() - conn_start) / 1e9;

    if (opt.ready_file) {
        FILE *f = fopen(opt.ready_file, "w");
        if (!f)
            die("cannot create %s: %s", opt.ready_file, strerror(errno));
        fclose(f);
    }
    fprintf(stderr, "mqload conn: %d connections open after %.2f s, holding them for %.1f s\n",
            opt.conns, open_s, (double)opt.hold / 1e9);
    sleep_until(now_ns() + opt.hold);

    /* Which connections did the broker close (or send anything on) meanwhile? */
    int still_open = 0;
    for (int i = 0; i < opt.conns; i++) {
        struct pollfd pf = {.fd = conn_fds[i], .events = POLLIN | POLLRDHUP};
        if (poll(&pf, 1, 0) == 0)
            still_open++;
    }
    for (int i = 0; i < opt.conns; i++) {
        send(conn_fds[i], disconnect_pkt, 2, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(conn_fds[i]);
    }

    qsort(conn_ns, (size_t)opt.conns, sizeof(uint64_t), cmp_u64);
    size_t n = (size_t)opt.conns;
    printf("{\"mode\":\"conn\",\"params\":{\"host\":\"%s\",\"port\":%d,\"conns\":%d,\"rate\":%ld,"
           "\"threads\":%d,\"hold_s\":%.3f,\"keepalive_s\":%d},\"figures\":{\"established\":%d,"
           "\"open_s\":%.3f,\"achieved_rate\":%.0f,\"connect_us\":{\"min\":%.1f,\"p50\":%.1f,"
           "\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},\"still_open_after_hold\":%d}}\n",
           opt.host, opt.port, opt.conns, opt.rate, opt.threads, (double)opt.hold / 1e9, KEEPALIVE,
           opt.conns, open_s, open_s > 0 ? (double)opt.conns / open_s : 0.0,
           pct_us(conn_ns, n, 0), pct_us(conn_ns, n, 0.5), pct_us(conn_ns, n, 0.9),
           pct_us(conn_ns, n, 0.99), pct_us(conn_ns, n, 1.0), still_open);
    fflush(stdout);
    fprintf(stderr, "mqload conn: connect p50 %.0f us, p99 %.0f us; %d of %d still open after the hold\n",
            pct_us(conn_ns, n, 0.5), pct_us(conn_ns, n, 0.99), still_open, opt.conns);
    if (still_open != opt.conns)
        die("the broker closed %d of the %d idle connections during the hold", opt.conns - still_open,
            opt.conns);
}

/* ---------------------------------------------------------------- main */

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "mqload: error: the run exceeded its time bound\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(1);
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    /* A last line of defence: whatever happens, the process ends. Each phase has its own
     * bound (handshakes 5 s, publishing --duration, draining --drain-max). */
    uint64_t bound;
    if (strcmp(opt.mode, "conn") == 0) {
        double open = opt.rate > 0 ? (double)opt.conns / (double)opt.rate : 0;
        bound = (uint64_t)(open * 1e9) + opt.hold + 30 * NS;
    } else {
        bound = opt.duration + opt.drain_max + 30 * NS;
    }
    signal(SIGALRM, on_alarm);
    alarm((unsigned)(bound / NS + 1));

    if (strcmp(opt.mode, "conn") == 0)
        run_conn();
    else
        run_pubsub();
    return 0;
}
