/*
 * v2m fast client: the `v2m` entry of the folder build.
 *
 * A key bound to `v2m toggle` should answer at once. The frozen Python
 * app needs 40-60 ms just to start; this program needs about 1 ms. It
 * handles the keybinding commands (toggle, start, stop, cancel, ping,
 * pause, resume, shutdown), speaking the daemon's socket protocol (4-byte
 * big-endian length + UTF-8 JSON), and the one option of toggle and start,
 * `--language LANG` (a key per language), when its value is plain. Every
 * other command, and any other argument, goes to the Python app (v2m-app
 * beside this file) through exec.
 *
 * What it sends, prints, notifies and exits with is not written here: it
 * comes from v2m_generated.h, which build/fastclient/gen_header.py reads off
 * the Python CLI at build time (build/fastclient/build.sh). This file is the
 * machinery: the socket and its trust checks, a strict JSON reader, and the
 * interpreter of the generated reply rules.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

/* How a command prints its reply's data: the first rule that applies. */
enum {
    V2M_RULE_TEXT = 1, /* data[key] is a non-empty string: prefix + it */
    V2M_RULE_FLAG,     /* data[key] is true as Python sees it: prefix + text */
    V2M_RULE_VALUE,    /* prefix + data[key] if a string, else prefix + text */
    V2M_RULE_CONST,    /* prefix + text */
};
struct rule { int kind; const char *key; int stream; const char *prefix, *text; };

/* Angle brackets: the header comes from -I (build.sh's temp dir), never a stale copy here. */
#include <v2m_generated.h>

struct command {
    const char *name;
    unsigned timeout_ms;      /* 0: wait as long as it takes */
    int notify_errors;        /* errors also go to a desktop notification */
    const char *outputs_key;  /* data[key] maps outputs to results; NULL: none */
    const char *request;      /* the exact frame to send */
    size_t request_len;
    const char *option;       /* "--language": its value goes in the request; NULL: no option */
    const char *option_head, *option_tail;  /* the request's payload around the value */
    size_t option_head_len, option_tail_len;
    struct rule rules[V2M_MAX_RULES];
};

static const struct command COMMANDS[] = {V2M_COMMANDS};
static const struct command *running;

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
    if (slash) *slash = '\0';
    snprintf(app, sizeof app, "%s/v2m-app", self);
    argv[0] = "v2m";
    execv(app, argv);
    fprintf(stderr, "v2m: cannot run %s: %s\n", app, strerror(errno));
    return 1;
}

/* ---- desktop notifications, as notify_without_terminal() in cli/conventions.py ---- */

/* shutil.which(): the first executable non-directory NAME on PATH. */
static int which(const char *name, char *out, size_t size) {
    const char *path = getenv("PATH");
    char cs_path[1024];
    if (!path) {
        if (confstr(_CS_PATH, cs_path, sizeof cs_path) == 0) snprintf(cs_path, sizeof cs_path, "/bin:/usr/bin");
        path = cs_path;
    }
    if (!*path) return 0;
    for (const char *p = path;; p++) {
        size_t n = strcspn(p, ":");
        struct stat st;
        if (n) snprintf(out, size, "%.*s/%s", (int)n, p, name);
        else snprintf(out, size, "%s", name);
        if (access(out, X_OK) == 0 && stat(out, &st) == 0 && !S_ISDIR(st.st_mode)) return 1;
        p += n;
        if (!*p) return 0;
    }
}

/* The first `chars` characters of UTF-8 `s` (0: all), newly allocated. */
static char *first_chars(const char *s, size_t chars) {
    size_t i = 0, seen = 0;
    for (; s[i] && (!chars || seen < chars); seen++)
        do i++; while ((s[i] & 0xC0) == 0x80);
    return strndup(s, i);
}

/* Run the notification tool when stderr is not a terminal (a keybinding has no
 * terminal to show stderr); wait for it as long as the Python CLI does. */
static void notify(const char *message) {
    char tool[PATH_MAX];
    const char *name = V2M_NOTIFY_TOOL;
    if (!name || isatty(STDERR_FILENO) || !which(name, tool, sizeof tool)) return;
    char *text = first_chars(message, V2M_NOTIFY_MAX_CHARS);
    char *argv[] = {tool, V2M_NOTIFY_ARGS text, NULL};
    fflush(NULL);
    pid_t pid = text ? fork() : -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        setsid();
        for (int fd = 0; fd < 3; fd++) dup2(null, fd);
        execv(tool, argv);
        _exit(127);
    }
    free(text);
    if (pid < 0) return;
    const unsigned timeout_ms = V2M_NOTIFY_TIMEOUT_MS;
    for (unsigned waited = 0; waitpid(pid, NULL, WNOHANG) == 0; waited += 10) {
        if (timeout_ms && waited >= timeout_ms) {
            kill(pid, SIGKILL);  /* the child we started, nothing else */
            waitpid(pid, NULL, 0);
            return;
        }
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
}

/* An error: its message on stderr (and in a notification for the commands
 * whose errors are notified); returns the exit code. */
__attribute__((format(printf, 2, 3)))
static int say(int code, const char *format, ...) {
    char *line = NULL;
    va_list ap;
    va_start(ap, format);
    int n = vasprintf(&line, format, ap);
    va_end(ap);
    if (n < 0) return code;
    fputs(line, stderr);
    if (running && running->notify_errors) {
        size_t skip = strncmp(line, V2M_ERROR_PREFIX, strlen(V2M_ERROR_PREFIX)) ? 0 : strlen(V2M_ERROR_PREFIX);
        if (n > 0 && line[n - 1] == '\n') line[n - 1] = '\0';
        notify(line + skip);
    }
    free(line);
    return code;
}

/* ---- a strict JSON reader (what Python's json accepts), over spans of the reply ---- */

struct parser { const char *p, *end; };
struct span { const char *p, *end; };
struct text { char *s; size_t n; };

static void ws(struct parser *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) j->p++;
}

/* Python's json decodes only valid UTF-8 (no surrogates, no overlong forms). */
static int valid_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], len = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3
                               : c >= 0xF0 && c < 0xF5 ? 4 : 0;
        if (!len || n - i < len) return 0;
        for (unsigned k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] >= 0xA0) ||
            (c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] >= 0x90)) return 0;
        i += len;
    }
    return 1;
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

/* After "\u": one character. A surrogate pair is one; a surrogate without its
 * partner is U+FFFD, and an escape after it is read on its own: "\ud800\u0041"
 * is U+FFFD then "A". */
static int unicode_escape(struct parser *j, unsigned *cp) {
    if (hex4(j, cp)) return -1;
    if (*cp < 0xD800 || *cp > 0xDFFF) return 0;
    if (*cp < 0xDC00 && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
        struct parser next = {j->p + 2, j->end};
        unsigned low;
        if (hex4(&next, &low)) return -1;
        if (low >= 0xDC00 && low <= 0xDFFF) {
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (low - 0xDC00);
            j->p = next.p;
            return 0;
        }
    }
    *cp = 0xFFFD;
    return 0;
}

/* A string at j->p; decoded into out (room for the span's length + 1) unless NULL. */
static int string(struct parser *j, char *out, size_t *len) {
    char *start = out;
    if (j->p >= j->end || *j->p++ != '"') return -1;
    for (;;) {
        if (j->p >= j->end) return -1;
        unsigned char c = (unsigned char)*j->p++;
        unsigned cp;
        if (c == '"') break;
        if (c < 0x20) return -1;  /* raw control characters are not JSON */
        if (c != '\\') { if (out) *out++ = (char)c; continue; }
        if (j->p >= j->end) return -1;
        switch (*j->p++) {
        case '"': cp = '"'; break;  case '\\': cp = '\\'; break; case '/': cp = '/'; break;
        case 'b': cp = '\b'; break; case 'f': cp = '\f'; break;  case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break; case 't': cp = '\t'; break;
        case 'u': if (unicode_escape(j, &cp)) return -1; break;
        default: return -1;
        }
        if (out) put_utf8(&out, cp);
    }
    if (out) { *out = '\0'; if (len) *len = (size_t)(out - start); }
    return 0;
}

static int digits(struct parser *j) {
    const char *start = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    return j->p > start ? 0 : -1;
}

static int literal(struct parser *j) {
    static const char *const words[] = {"true", "false", "null", "NaN", "Infinity", "-Infinity"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i], n) == 0) { j->p += n; return 0; }
    }
    if (j->p < j->end && *j->p == '-') j->p++;
    if (j->p < j->end && *j->p == '0') j->p++;
    else if (digits(j)) return -1;
    if (j->p < j->end && *j->p == '.') { j->p++; if (digits(j)) return -1; }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
        if (digits(j)) return -1;
    }
    return 0;
}

/* Check and step over one value. */
static int value(struct parser *j, int depth) {
    ws(j);
    if (j->p >= j->end || depth > 512) return -1;
    char open = *j->p;
    if (open == '"') return string(j, NULL, NULL);
    if (open != '{' && open != '[') return literal(j);
    char close = open == '{' ? '}' : ']';
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == close) { j->p++; return 0; }
    for (;;) {
        if (open == '{') {
            ws(j);
            if (string(j, NULL, NULL)) return -1;
            ws(j);
            if (j->p >= j->end || *j->p++ != ':') return -1;
        }
        if (value(j, depth + 1)) return -1;
        ws(j);
        if (j->p >= j->end) return -1;
        if (*j->p == ',') { j->p++; continue; }
        return *j->p++ == close ? 0 : -1;
    }
}

/* Decode a string span (newly allocated); -1 if it is not a string. */
static int decode(struct span s, struct text *out) {
    struct parser j = {s.p, s.end};
    out->s = NULL;
    out->n = 0;
    if (s.p >= s.end || *s.p != '"' || !(out->s = malloc((size_t)(s.end - s.p) + 1))) return -1;
    return string(&j, out->s, &out->n);
}

/* The next member of a checked object (j inside it); 0 at its end. */
static int next_member(struct parser *j, struct span *key, struct span *val) {
    ws(j);
    if (j->p < j->end && *j->p == ',') j->p++;
    ws(j);
    key->p = j->p;
    if (string(j, NULL, NULL)) return 0;
    key->end = j->p;
    ws(j);
    j->p++;  /* ':' */
    ws(j);
    val->p = j->p;
    if (value(j, 1)) return 0;
    val->end = j->p;
    return 1;
}

static int string_is(struct span s, const char *want) {
    struct text t;
    int same = decode(s, &t) == 0 && t.n == strlen(want) && memcmp(t.s, want, t.n) == 0;
    free(t.s);
    return same;
}

/* data[key] of a checked object; the last one wins, as in Python. */
static int member(struct span obj, const char *key, struct span *out) {
    if (obj.p >= obj.end || *obj.p != '{') return 0;
    struct parser j = {obj.p + 1, obj.end};
    struct span k, v;
    int found = 0;
    while (next_member(&j, &k, &v))
        if (string_is(k, key)) { *out = v; found = 1; }
    return found;
}

/* Python's bool() of a checked value. */
static int truthy(struct span v) {
    struct parser j = {v.p + 1, v.end};
    switch (*v.p) {
    case '"': return v.end - v.p > 2;
    case 't': case 'N': case 'I': return 1;
    case 'f': case 'n': return 0;
    case '[': case '{': ws(&j); return j.p < j.end && *j.p != ']' && *j.p != '}';
    }
    for (const char *p = v.p; p < v.end && *p != 'e' && *p != 'E'; p++)  /* a number */
        if ((*p >= '1' && *p <= '9') || *p == 'I') return 1;
    return 0;
}

/* ---- the socket ---- */

/* XDG_RUNTIME_DIR as pathlib spells it (what the Python client shows): no
 * repeated "/" (but a leading "//" stays), no "." parts, no trailing "/". The
 * root alone becomes "" ("/" for "//"), so that "%s/v2m" has one slash. */
static void pathlib_spelling(char *p) {
    size_t lead = strspn(p, "/"), root = lead == 2 ? 2 : 1;
    char *o = p + root;
    const char *s = p + lead;
    while (*s) {  /* o <= s, and o < s once a part is written: a "/" was skipped after it */
        size_t n = strcspn(s, "/");
        if (!(n == 1 && s[0] == '.')) {
            if (o > p + root) *o++ = '/';
            memmove(o, s, n);
            o += n;
        }
        s += n;
        s += strspn(s, "/");
    }
    *o = '\0';
    if (o == p + root) p[root - 1] = '\0';
}

/* The socket's path; the length it needs (a path too long for a socket is refused later). */
static int socket_path(char *out, size_t size) {
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (!xdg || xdg[0] != '/') return snprintf(out, size, V2M_SOCKET_PATH_FALLBACK, (unsigned)getuid());
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%s", xdg);
    pathlib_spelling(base);
    return snprintf(out, size, V2M_SOCKET_PATH_XDG, base);
}

static int not_running_or(int err, const char *path, const int *missing, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (err == missing[i]) return say(V2M_EXIT_NOT_RUNNING, V2M_MSG_NOT_RUNNING, path);
    return say(V2M_EXIT_CANNOT_CONNECT, V2M_MSG_CANNOT_CONNECT, path, strerror(err));
}

/* Only our own daemon: another user may have made the runtime dir first and
 * listen on the socket path. The same checks, in the same order, as the
 * Python client's (src/v2m/ipc/peer_trust.py): the path checks before
 * connect() give a clear message; SO_PEERCRED after it closes the race.
 * 0: trusted; else the exit code, with the message printed. */
static int check_entry(const char *entry, const char *sock_path, int want_dir) {
    static const int missing[] = {V2M_LSTAT_NOT_RUNNING};
    struct stat st;
    unsigned uid = (unsigned)getuid(), mode;
    if (lstat(entry, &st) < 0)
        return not_running_or(errno, sock_path, missing, sizeof missing / sizeof *missing);
    mode = (unsigned)st.st_mode & 07777;
    if (S_ISLNK(st.st_mode)) return say(V2M_EXIT_REFUSE_SYMLINK, V2M_MSG_REFUSE_SYMLINK, entry);
    if (want_dir && !S_ISDIR(st.st_mode)) return say(V2M_EXIT_REFUSE_NOT_DIR, V2M_MSG_REFUSE_NOT_DIR, entry);
    if (!want_dir && !S_ISSOCK(st.st_mode))
        return say(V2M_EXIT_REFUSE_NOT_SOCKET, V2M_MSG_REFUSE_NOT_SOCKET, entry);
    if ((unsigned)st.st_uid != uid)
        return say(V2M_EXIT_REFUSE_OWNER, V2M_MSG_REFUSE_OWNER, entry, (unsigned)st.st_uid, uid);
    if (mode & V2M_INSECURE_MODES) return say(V2M_EXIT_REFUSE_WRITABLE, V2M_MSG_REFUSE_WRITABLE, entry, mode);
    return 0;
}

static int check_path(const char *path) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    int rc = check_entry(dir, path, 1);
    return rc ? rc : check_entry(path, path, 0);
}

static int check_peer(int fd, const char *path) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return say(V2M_EXIT_CANNOT_CONNECT, V2M_MSG_CANNOT_CONNECT, path, strerror(errno));
    if (cred.uid != getuid())
        return say(V2M_EXIT_REFUSE_PEER, V2M_MSG_REFUSE_PEER, path, (unsigned)cred.uid, (unsigned)getuid());
    return 0;
}

/* 0 done; -1 error (errno says which); -2 the peer closed the connection. */
static int full_io(int fd, const void *buf, size_t len, int writing) {
    char *b = (char *)buf;
    while (len) {
        ssize_t n = writing ? send(fd, b, len, MSG_NOSIGNAL) : recv(fd, b, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n == 0 ? -2 : -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static int connect_daemon(const char *path, int *fd) {
    static const int missing[] = {V2M_CONNECT_NOT_RUNNING};
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int rc = check_path(path);
    if (rc) return rc;
    if (strlen(path) >= sizeof addr.sun_path || (*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return fail("cannot create a socket");
    strcpy(addr.sun_path, path);
    if (connect(*fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        return not_running_or(errno, path, missing, sizeof missing / sizeof *missing);
    return check_peer(*fd, path);
}

/* The request frame: the command's own, or with the option's value between
 * the generated head and tail (a plain value is its own JSON). */
static int request_frame(const struct command *c, const char *value, struct text *out) {
    if (!value) {
        out->s = NULL;
        out->n = c->request_len;
        return 0;
    }
    size_t n = strlen(value), body = c->option_head_len + n + c->option_tail_len;
    uint32_t be = htonl((uint32_t)body);
    if (!(out->s = malloc(4 + body))) return fail("out of memory");
    memcpy(out->s, &be, 4);
    memcpy(out->s + 4, c->option_head, c->option_head_len);
    memcpy(out->s + 4 + c->option_head_len, value, n);
    memcpy(out->s + 4 + c->option_head_len + n, c->option_tail, c->option_tail_len);
    out->n = 4 + body;
    return 0;
}

/* Send the command's request (with the option's value, unless NULL); read the reply frame into *reply. */
static int request(const struct command *c, const char *value, struct text *reply) {
    char path[PATH_MAX];
    struct text frame = {0};
    int fd = -1;
    int rc = request_frame(c, value, &frame);
    if (!rc) rc = socket_path(path, sizeof path) < (int)sizeof path ? connect_daemon(path, &fd)
                  : fail("cannot create a socket");
    if (!rc && c->timeout_ms) {
        struct timeval timeout = {.tv_sec = c->timeout_ms / 1000, .tv_usec = c->timeout_ms % 1000 * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    }
    uint32_t be, len = 0;
    int io = rc ? 0 : full_io(fd, frame.s ? frame.s : c->request, frame.n, 1);
    free(frame.s);
    if (!rc && !io) io = full_io(fd, &be, 4, 0);
    if (!rc && !io && (len = ntohl(be)) > V2M_MAX_REPLY_BYTES) rc = say(V2M_EXIT_TOO_BIG, V2M_MSG_TOO_BIG, len);
    if (!rc && !io && !(reply->s = malloc((size_t)len + 1))) rc = fail("out of memory");
    if (!rc && !io) io = full_io(fd, reply->s, len, 0);
    int err = errno;
    if (fd >= 0) close(fd);
    if (!rc && io == -1 && (err == EAGAIN || err == EWOULDBLOCK)) rc = say(V2M_EXIT_TIMEOUT, V2M_MSG_TIMEOUT);
    else if (!rc && io) rc = say(V2M_EXIT_CLOSED, V2M_MSG_CLOSED);
    if (rc) { free(reply->s); reply->s = NULL; }
    reply->n = len;
    return rc;
}

/* ---- the reply ---- */

static void emit(int stream, const char *prefix, const char *s, size_t n) {
    FILE *f = stream == 1 ? stdout : stderr;
    fputs(prefix, f);
    fwrite(s, 1, n, f);
    fputc('\n', f);
}

/* The first rule that applies prints its line. */
static void print_data(const struct command *c, struct span data) {
    for (const struct rule *r = c->rules; r->kind; r++) {
        struct span v = {0};
        struct text t = {0};
        int has = r->key && member(data, r->key, &v), is_text = has && decode(v, &t) == 0;
        int done = 1;
        if (r->kind == V2M_RULE_TEXT && is_text && t.n) emit(r->stream, r->prefix, t.s, t.n);
        else if (r->kind == V2M_RULE_FLAG && has && truthy(v)) emit(r->stream, r->prefix, r->text, strlen(r->text));
        else if (r->kind == V2M_RULE_VALUE && is_text) emit(r->stream, r->prefix, t.s, t.n);
        else if (r->kind == V2M_RULE_VALUE || r->kind == V2M_RULE_CONST)
            emit(r->stream, r->prefix, r->text, strlen(r->text));
        else done = 0;
        free(t.s);
        if (done) return;
    }
}

/* Outputs that failed (a clipboard, typing): reported, notified, exit code. */
static int report_outputs(const struct command *c, struct span data) {
    struct span outputs, k, v;
    if (!c->outputs_key || !member(data, c->outputs_key, &outputs) || *outputs.p != '{') return 0;
    char *message = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&message, &size);
    if (!m) return fail("out of memory");
    struct parser j = {outputs.p + 1, outputs.end};
    int failed = 0;
    while (next_member(&j, &k, &v)) {
        struct text name = {0}, result = {0};
        if (!string_is(v, V2M_OUTPUTS_OK) && decode(k, &name) == 0) {
            /* as Python's str(): null, true and false are None, True and False */
            const char *word = *v.p == 'n' ? "None" : *v.p == 't' ? "True" : *v.p == 'f' ? "False" : NULL;
            fputs(failed++ ? V2M_OUTPUTS_SEP : "", m);
            fwrite(name.s, 1, name.n, m);
            fputs(V2M_OUTPUTS_BETWEEN, m);
            if (decode(v, &result) == 0) fwrite(result.s, 1, result.n, m);
            else if (word) fputs(word, m);
            else fwrite(v.p, 1, (size_t)(v.end - v.p), m);
        }
        free(name.s);
        free(result.s);
    }
    fputs(V2M_OUTPUTS_SUFFIX, m);
    fclose(m);
    if (failed) {
        emit(V2M_OUTPUTS_STREAM, V2M_OUTPUTS_PREFIX, message, size);
        if (V2M_OUTPUTS_NOTIFY) notify(message);
    }
    free(message);
    return failed ? V2M_OUTPUTS_EXIT : 0;
}

static int run(const struct command *c, const char *option) {
    struct text reply = {0}, error = {0};
    int rc = request(c, option, &reply);
    if (rc) return rc;
    struct parser j = {reply.s, reply.s + reply.n};
    ws(&j);
    struct span top = {j.p, j.end}, status, err, data = {0};
    if (!valid_utf8((const unsigned char *)reply.s, reply.n) || j.p >= j.end || *j.p != '{' || value(&j, 0) ||
        (ws(&j), j.p != j.end)) {
        rc = say(V2M_EXIT_NOT_JSON, V2M_MSG_NOT_JSON);
    } else {
        if (!member(top, V2M_KEY_STATUS, &status) || !string_is(status, V2M_STATUS_SUCCESS)) {
            if (member(top, V2M_KEY_ERROR, &err) && decode(err, &error) == 0 && error.n)
                rc = say(V2M_EXIT_ERROR_REPLY, V2M_MSG_ERROR_REPLY, error.s);
            else
                rc = say(V2M_EXIT_ERROR_DEFAULT, V2M_MSG_ERROR_DEFAULT);
        } else {
            member(top, V2M_KEY_DATA, &data);  /* not an object: no data */
            print_data(c, data);
            rc = report_outputs(c, data);
        }
    }
    free(error.s);
    free(reply.s);
    return rc;
}

/* A value whose JSON is itself between quotes, and that the Python CLI takes
 * as it is: a letter, then letters, digits, " ", "_" and "-" (options.PLAIN
 * in build/fastclient/options.py). */
static int plain_value(const char *v) {
    size_t n = strlen(v);
    if (n == 0 || n > V2M_OPTION_MAX_CHARS || !((*v | 0x20) >= 'a' && (*v | 0x20) <= 'z')) return 0;
    for (; *v; v++)
        if (!((*v | 0x20) >= 'a' && (*v | 0x20) <= 'z') && !(*v >= '0' && *v <= '9') &&
            *v != ' ' && *v != '_' && *v != '-') return 0;
    return 1;
}

/* `--language VALUE` or `--language=VALUE` after the command, a plain value;
 * NULL for anything else. */
static const char *option_value(const struct command *c, int argc, char **argv) {
    if (!c->option) return NULL;
    size_t n = strlen(c->option);
    const char *v = argc == 4 && strcmp(argv[2], c->option) == 0 ? argv[3]
                  : argc == 3 && strncmp(argv[2], c->option, n) == 0 && argv[2][n] == '=' ? argv[2] + n + 1 : NULL;
    return v && plain_value(v) ? v : NULL;
}

int main(int argc, char **argv) {
    if (argc >= 2 && argc <= 4)
        for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++) {
            if (strcmp(argv[1], COMMANDS[i].name) != 0) continue;
            const char *value = option_value(&COMMANDS[i], argc, argv);
            if (argc == 2 || value) return run(running = &COMMANDS[i], value);
        }
    return exec_python(argv);
}
