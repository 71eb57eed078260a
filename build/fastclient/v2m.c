/*
 * v2m fast client: the `v2m` entry of the folder build.
 *
 * A key bound to `v2m toggle` should answer at once. The frozen Python
 * app needs 40-60 ms just to start; this program needs about 1 ms. It
 * handles the commands a keybinding sends (toggle, start, stop, cancel,
 * ping, pause, resume, shutdown), speaking the daemon's socket protocol
 * (4-byte big-endian length + UTF-8 JSON), with the same output and exit
 * codes as the Python CLI. Every other command, and any extra argument,
 * goes to the Python app (v2m-app beside this file) through exec.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <unistd.h>

#define MAX_REPLY (64u * 1024 * 1024)

struct command { const char *name, *cmd, *key; int recording; };

static const struct command COMMANDS[] = {
    {"toggle", "TOGGLE_RECORDING", NULL, 1}, {"start", "START_RECORDING", NULL, 1},
    {"stop", "STOP_RECORDING", NULL, 1},     {"cancel", "CANCEL_RECORDING", NULL, 1},
    {"ping", "PING", "message", 0},          {"pause", "PAUSE_DAEMON", "state", 0},
    {"resume", "RESUME_DAEMON", "state", 0}, {"shutdown", "SHUTDOWN", "message", 0},
};

static int fail(const char *message) {
    fprintf(stderr, "v2m: %s\n", message);
    return 1;
}

/* ---- the Python app, for everything this program does not handle ---- */

static int exec_python(char **argv) {
    char self[PATH_MAX], app[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) return fail("cannot find my own path in /proc/self/exe");
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    snprintf(app, sizeof app, "%s/v2m-app", self);
    argv[0] = "v2m";
    execv(app, argv);
    fprintf(stderr, "v2m: cannot run %s: %s\n", app, strerror(errno));
    return 1;
}

/* ---- just enough JSON to read a reply ---- */

struct parser { const char *p, *end; };

static void ws(struct parser *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) j->p++;
}

static void put_utf8(char **out, unsigned cp) {
    char *o = *out;
    if (cp < 0x80) *o++ = (char)cp;
    else if (cp < 0x800) { *o++ = (char)(0xC0 | cp >> 6); *o++ = (char)(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12); *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18); *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F)); *o++ = (char)(0x80 | (cp & 0x3F));
    }
    *out = o;
}

static int hex4(struct parser *j, unsigned *cp) {
    if (j->end - j->p < 4) return -1;
    *cp = 0;
    for (int i = 0; i < 4; i++) {
        char c = *j->p++;
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (digit < 0) return -1;
        *cp = *cp * 16 + (unsigned)digit;
    }
    return 0;
}

/* Parse a string at j->p; if out is not NULL, decode it there (NUL-terminated). */
static int string(struct parser *j, char *out) {
    if (j->p >= j->end || *j->p != '"') return -1;
    j->p++;
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        unsigned cp;
        if (c != '\\') { if (out) *out++ = c; continue; }
        if (j->p >= j->end) return -1;
        c = *j->p++;
        switch (c) {
        case 'n': cp = '\n'; break; case 't': cp = '\t'; break; case 'r': cp = '\r'; break;
        case 'b': cp = '\b'; break; case 'f': cp = '\f'; break;
        case 'u':
            if (hex4(j, &cp)) return -1;
            if (cp >= 0xD800 && cp < 0xDC00 && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
                unsigned low;
                j->p += 2;
                if (hex4(j, &low)) return -1;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            break;
        default: cp = (unsigned char)c;  /* \" \\ \/ */
        }
        if (out) put_utf8(&out, cp);
    }
    if (j->p >= j->end) return -1;
    j->p++;
    if (out) *out = '\0';
    return 0;
}

static int skip_value(struct parser *j, int depth) {
    ws(j);
    if (j->p >= j->end || depth > 64) return -1;
    char c = *j->p;
    if (c == '"') return string(j, NULL);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        ws(j);
        if (j->p < j->end && *j->p == close) { j->p++; return 0; }
        for (;;) {
            if (c == '{') {
                ws(j);
                if (string(j, NULL)) return -1;
                ws(j);
                if (j->p >= j->end || *j->p++ != ':') return -1;
            }
            if (skip_value(j, depth + 1)) return -1;
            ws(j);
            if (j->p >= j->end) return -1;
            if (*j->p == ',') { j->p++; continue; }
            if (*j->p++ == close) return 0;
            return -1;
        }
    }
    while (j->p < j->end && !strchr(",}] \n\r\t", *j->p)) j->p++;  /* number, true, false, null */
    return 0;
}

/* Which string fields to read from an object, and an optional nested object. */
struct wanted {
    const char **keys; char **values; int n;
    const char *nested_key; struct wanted *nested;
};

static int object(struct parser *j, struct wanted *w) {
    ws(j);
    if (j->p >= j->end || *j->p++ != '{') return -1;
    ws(j);
    if (j->p < j->end && *j->p == '}') { j->p++; return 0; }
    char *key = malloc((size_t)(j->end - j->p) + 1);
    int rc = -1;
    while (key) {
        ws(j);
        if (string(j, key)) break;
        ws(j);
        if (j->p >= j->end || *j->p++ != ':') break;
        ws(j);
        int done = 0;
        for (int i = 0; i < w->n && !done; i++)
            if (strcmp(key, w->keys[i]) == 0 && j->p < j->end && *j->p == '"') {
                free(w->values[i]);
                w->values[i] = malloc((size_t)(j->end - j->p) + 1);
                if (!w->values[i] || string(j, w->values[i])) goto out;
                done = 1;
            }
        if (!done && w->nested && strcmp(key, w->nested_key) == 0 && j->p < j->end && *j->p == '{') {
            if (object(j, w->nested)) break;
            done = 1;
        }
        if (!done && skip_value(j, 1)) break;
        ws(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        rc = j->p < j->end && *j->p++ == '}' ? 0 : -1;
        break;
    }
out:
    free(key);
    return rc;
}

/* ---- the socket ---- */

static void socket_path(char *out, size_t size) {
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg && xdg[0] == '/') snprintf(out, size, "%s/v2m/v2m.sock", xdg);
    else snprintf(out, size, "/tmp/v2m-%u/v2m.sock", (unsigned)getuid());
}

/* Only our own daemon: another user may have made the runtime dir first and
 * listen on the socket path. The same checks and messages as the Python
 * client's (src/v2m/core/peer_trust.py): the path checks before connect()
 * give a clear message; SO_PEERCRED after it closes the race. */

#define TRUST_HINT "remove it, or set XDG_RUNTIME_DIR to a directory you own"

static void not_running(const char *path) {
    fprintf(stderr, "v2m: the v2m daemon is not running (no socket at %s); start it with "
                    "`v2m daemon`, or enable the user service\n", path);
}

/* 0: trusted; 1: refused or missing, with the message printed. */
static int check_entry(const char *entry, const char *sock_path, int want_dir) {
    struct stat st;
    unsigned uid = (unsigned)getuid();
    if (lstat(entry, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR) not_running(sock_path);
        else fprintf(stderr, "v2m: cannot connect to %s: %s\n", sock_path, strerror(errno));
        return 1;
    }
    unsigned mode = (unsigned)st.st_mode & 07777;
    if (S_ISLNK(st.st_mode))
        fprintf(stderr, "v2m: refusing %s: it is a symbolic link; " TRUST_HINT "\n", entry);
    else if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISSOCK(st.st_mode))
        fprintf(stderr, "v2m: refusing %s: it is not a %s; " TRUST_HINT "\n", entry,
                want_dir ? "directory" : "socket");
    else if ((unsigned)st.st_uid != uid)
        fprintf(stderr, "v2m: refusing %s: it is owned by uid %u, not by you (uid %u); " TRUST_HINT "\n",
                entry, (unsigned)st.st_uid, uid);
    else if (mode & 022)
        fprintf(stderr, "v2m: refusing %s: it is writable by other users (mode %04o); " TRUST_HINT "\n",
                entry, mode);
    else
        return 0;
    return 1;
}

static int check_path(const char *path) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    return check_entry(dir, path, 1) || check_entry(path, path, 0);
}

static int check_peer(int fd, const char *path) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        fprintf(stderr, "v2m: cannot connect to %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (cred.uid != getuid()) {
        fprintf(stderr, "v2m: refusing %s: its server runs as uid %u, not as you (uid %u); "
                        TRUST_HINT "\n",
                path, (unsigned)cred.uid, (unsigned)getuid());
        return 1;
    }
    return 0;
}

static int full_io(int fd, void *buf, size_t len, int writing) {
    char *b = buf;
    while (len) {
        ssize_t n = writing ? send(fd, b, len, MSG_NOSIGNAL) : recv(fd, b, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n == 0 ? -2 : -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static int request(const struct command *c, char **reply, uint32_t *reply_len) {
    char path[PATH_MAX], msg[256];
    socket_path(path, sizeof path);
    if (check_path(path)) return 1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (fd < 0 || strlen(path) >= sizeof addr.sun_path) return fail("cannot create a socket");
    strcpy(addr.sun_path, path);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int err = errno;
        close(fd);
        if (err == ENOENT || err == ECONNREFUSED) not_running(path);
        else fprintf(stderr, "v2m: cannot connect to %s: %s\n", path, strerror(err));
        return 1;
    }
    if (check_peer(fd, path)) {
        close(fd);
        return 1;
    }
    struct timeval timeout = {.tv_sec = c->recording ? 120 : 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    int body = snprintf(msg + 4, sizeof msg - 4, "{\"cmd\":\"%s\",\"data\":{}}", c->cmd);
    uint32_t be = htonl((uint32_t)body);
    memcpy(msg, &be, 4);
    if (full_io(fd, msg, (size_t)body + 4, 1)) return fail("the daemon closed the connection; see the daemon log");
    int rc = full_io(fd, &be, 4, 0);
    *reply_len = ntohl(be);
    if (rc == 0 && *reply_len <= MAX_REPLY && (*reply = malloc(*reply_len + 1)) != NULL)
        rc = full_io(fd, *reply, *reply_len, 0);
    close(fd);
    if (rc == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return fail("the daemon did not answer in time; see `v2m status` and the daemon log");
    if (rc || !*reply) return fail("the daemon closed the connection; see the daemon log");
    return 0;
}

static int run(const struct command *c) {
    char *reply = NULL;
    uint32_t len = 0;
    if (request(c, &reply, &len)) return 1;
    const char *data_keys[] = {"transcription", "state", "message"};
    char *data[3] = {NULL, NULL, NULL};
    struct wanted inner = {data_keys, data, 3, NULL, NULL};
    const char *top_keys[] = {"status", "error"};
    char *top[2] = {NULL, NULL};
    struct wanted outer = {top_keys, top, 2, "data", &inner};
    struct parser j = {reply, reply + len};
    if (object(&j, &outer)) return fail("the daemon sent a reply that is not JSON");
    if (!top[0] || strcmp(top[0], "success") != 0)
        return fail(top[1] && top[1][0] ? top[1] : "the daemon reported an error");
    if (c->recording) {
        if (data[0] && data[0][0]) printf("%s\n", data[0]);  /* the text: data on stdout */
        else fprintf(stderr, "v2m: %s\n", data[1] ? data[1] : "ok");
    } else {
        const char *value = strcmp(c->key, "message") == 0 ? data[2] : data[1];
        printf("%s\n", value ? value : "ok");
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2)
        for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++)
            if (strcmp(argv[1], COMMANDS[i].name) == 0) return run(&COMMANDS[i]);
    return exec_python(argv);
}
