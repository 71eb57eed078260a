/*
 * The one-file release, v2m-VERSION-linux-ARCH.run: this static stub, then
 * the release folder as a zstd-compressed ustar archive (the same bytes as
 * the .tar.zst release).
 *
 * Every run execs RUNTIME/v2m, RUNTIME = $XDG_DATA_HOME/v2m/runtime/BUILD_ID
 * (default ~/.local/share/v2m/runtime/BUILD_ID). A warm run is that exec and
 * nothing else. When it is missing (the first run of this build), the stub
 * unpacks its payload into a temporary directory beside RUNTIME, checks the
 * payload's SHA-256 against the one compiled in here, and renames the
 * directory into place: a reader sees the whole runtime or none of it, and of
 * two first runs at once one rename wins and the other uses its result.
 *
 * Build: build/runstub/build.sh (defines BUILD_ID, PAYLOAD_SIZE, PAYLOAD_SHA256).
 * `v2m self uninstall` removes the unpacked runtimes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#ifndef BUILD_ID
#error "BUILD_ID, PAYLOAD_SIZE and PAYLOAD_SHA256 come from build/runstub/build.sh"
#endif

#define ENTRY "v2m"
#define STALE_S (3600) /* an abandoned unpack older than this is removed */

static const char *prog = "v2m";

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- SHA-256 (FIPS 180-4) ---- */
typedef struct { uint32_t h[8]; uint64_t len; unsigned char buf[64]; size_t fill; } sha256;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(sha256 *s, const unsigned char *p) {
    uint32_t w[64], a, b, c, d, e, f, g, h;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3]; e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d; s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void sha256_init(sha256 *s) {
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof h0);
    s->len = 0;
    s->fill = 0;
}

static void sha256_update(sha256 *s, const unsigned char *p, size_t n) {
    s->len += n;
    if (s->fill) {
        size_t take = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->buf + s->fill, p, take);
        s->fill += take; p += take; n -= take;
        if (s->fill < 64) return;
        sha256_block(s, s->buf);
        s->fill = 0;
    }
    for (; n >= 64; p += 64, n -= 64) sha256_block(s, p);
    memcpy(s->buf, p, n);
    s->fill = n;
}

static void sha256_hex(sha256 *s, char out[65]) {
    uint64_t bits = s->len * 8;
    unsigned char pad = 0x80, zero = 0, lenb[8];
    sha256_update(s, &pad, 1);
    while (s->fill != 56) sha256_update(s, &zero, 1);
    for (int i = 0; i < 8; i++) lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_update(s, lenb, 8);
    for (int i = 0; i < 8; i++) sprintf(out + 8 * i, "%08x", s->h[i]);
}

/* ---- paths ---- */
static char runtime_root[3072], runtime[3584], self_path[4096];

static void find_runtime(void) {
    const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    int n;
    if (data && data[0] == '/')  /* the XDG spec: relative values are ignored */
        n = snprintf(runtime_root, sizeof runtime_root, "%s/v2m/runtime", data);
    else if (home && home[0] == '/')
        n = snprintf(runtime_root, sizeof runtime_root, "%s/.local/share/v2m/runtime", home);
    else
        die("neither XDG_DATA_HOME nor HOME is set: no place to unpack into");
    if (n < 0 || (size_t)n >= sizeof runtime_root) die("runtime path too long");
    snprintf(runtime, sizeof runtime, "%s/%.256s", runtime_root, BUILD_ID);
}

static void mkdirs(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) && errno != EEXIST) die("cannot create %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) && errno != EEXIST) die("cannot create %s: %s", tmp, strerror(errno));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_rf(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Unpacks that died (power cut, kill -9) leave .unpack-* directories behind. */
static void remove_stale_unpacks(void) {
    DIR *d = opendir(runtime_root);
    struct dirent *e;
    struct stat st;
    char path[4096 + 256];
    if (!d) return;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, ".unpack-", 8)) continue;
        snprintf(path, sizeof path, "%s/%s", runtime_root, e->d_name);
        if (lstat(path, &st) == 0 && time(NULL) - st.st_mtime > STALE_S) rm_rf(path);
    }
    closedir(d);
}

/* ---- ustar reader ---- */
typedef struct {
    char dir[4096];           /* where entries go */
    unsigned char hdr[512];
    size_t hdr_fill;
    uint64_t left, pad;       /* bytes of the current file's data, then of its padding */
    int fd;                   /* the file being written, or -1 */
    int ended;
    unsigned long files;
    uint64_t bytes;
} untar;

static uint64_t octal(const unsigned char *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++) v = v * 8 + (p[i] - '0');
    return v;
}

/* "NAME/rest" -> "rest": the archive's top directory is the runtime itself. */
static int entry_path(untar *t, char *out, size_t outn) {
    char name[256 + 2];
    const unsigned char *h = t->hdr;
    if (h[345]) snprintf(name, sizeof name, "%.155s/%.100s", (const char *)h + 345, (const char *)h);
    else snprintf(name, sizeof name, "%.100s", (const char *)h);
    char *rest = strchr(name, '/');
    if (!rest || !rest[1]) return 0; /* the top directory itself */
    rest++;
    for (const char *c = rest; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
        if (!strncmp(c, "..", 2) && (c[2] == '/' || c[2] == 0)) die("corrupt payload: path %s", rest);
    size_t len = strlen(rest);
    if (len && rest[len - 1] == '/') rest[len - 1] = 0;
    snprintf(out, outn, "%s/%s", t->dir, rest);
    return 1;
}

static void header(untar *t) {
    const unsigned char *h = t->hdr;
    int zero = 1;
    for (int i = 0; i < 512; i++) if (h[i]) { zero = 0; break; }
    if (zero) { t->ended = 1; return; }
    if (memcmp(h + 257, "ustar", 5)) die("corrupt payload: not a ustar archive");
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
    if (sum != octal(h + 148, 8)) die("corrupt payload: bad header checksum");
    uint64_t size = octal(h + 124, 12);
    mode_t mode = (mode_t)octal(h + 100, 8) & 0755;
    char path[4096 + 512], target[101];
    int has_path = entry_path(t, path, sizeof path);
    switch (h[156]) {
    case '0': case 0:
        t->left = size;
        t->pad = (512 - size % 512) % 512;
        t->fd = -1;
        if (!has_path) break;
        t->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode | 0600);
        if (t->fd < 0) die("cannot write %s: %s", path, strerror(errno));
        t->files++;
        t->bytes += size;
        break;
    case '5':
        if (has_path && mkdir(path, mode | 0700) && errno != EEXIST) die("cannot create %s: %s", path, strerror(errno));
        break;
    case '2':
        snprintf(target, sizeof target, "%.100s", (const char *)h + 157);
        if (has_path && symlink(target, path)) die("cannot link %s: %s", path, strerror(errno));
        break;
    default:
        die("corrupt payload: entry type %c", h[156]);
    }
    if (h[156] != '0' && h[156] != 0) t->left = t->pad = 0;
}

static void untar_feed(untar *t, const unsigned char *p, size_t n) {
    while (n && !t->ended) {
        if (t->left) {
            size_t k = n < t->left ? n : (size_t)t->left;
            if (t->fd >= 0) {
                for (size_t done = 0; done < k;) {
                    ssize_t w = write(t->fd, p + done, k - done);
                    if (w < 0) die("write failed: %s", strerror(errno));
                    done += (size_t)w;
                }
            }
            t->left -= k; p += k; n -= k;
            if (!t->left && t->fd >= 0) {
                if (close(t->fd)) die("write failed: %s", strerror(errno));
                t->fd = -1;
            }
        } else if (t->pad) {
            size_t k = n < t->pad ? n : (size_t)t->pad;
            t->pad -= k; p += k; n -= k;
        } else {
            size_t k = 512 - t->hdr_fill < n ? 512 - t->hdr_fill : n;
            memcpy(t->hdr + t->hdr_fill, p, k);
            t->hdr_fill += k; p += k; n -= k;
            if (t->hdr_fill == 512) {
                t->hdr_fill = 0;
                header(t);
            }
        }
    }
}

/* ---- unpack ---- */
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void unpack(void) {
    double start = now_s();
    static unsigned char in[1 << 17], out[1 << 17];
    char tmp[3584], hex[65];
    sha256 sha;
    untar t = {.fd = -1};

    mkdirs(runtime_root);
    remove_stale_unpacks();
    snprintf(tmp, sizeof tmp, "%s/.unpack-%.256s-XXXXXX", runtime_root, BUILD_ID);
    if (!mkdtemp(tmp)) die("cannot create a directory in %s: %s", runtime_root, strerror(errno));
    chmod(tmp, 0755);
    snprintf(t.dir, sizeof t.dir, "%s", tmp);

    int fd = open(self_path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) die("cannot read %s: %s", self_path, strerror(errno));
    if ((uint64_t)st.st_size < PAYLOAD_SIZE) die("%s is truncated (download it again)", self_path);
    if (lseek(fd, st.st_size - (off_t)PAYLOAD_SIZE, SEEK_SET) < 0) die("seek failed: %s", strerror(errno));

    ZSTD_DCtx *z = ZSTD_createDCtx();
    ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, 27);
    sha256_init(&sha);
    uint64_t left = PAYLOAD_SIZE;
    size_t zret = 1;
    while (left) {
        ssize_t n = read(fd, in, left < sizeof in ? left : sizeof in);
        if (n <= 0) die("cannot read %s: %s", self_path, n ? strerror(errno) : "short file");
        left -= (uint64_t)n;
        sha256_update(&sha, in, (size_t)n);
        ZSTD_inBuffer ib = {in, (size_t)n, 0};
        while (ib.pos < ib.size) {
            ZSTD_outBuffer ob = {out, sizeof out, 0};
            zret = ZSTD_decompressStream(z, &ob, &ib);
            if (ZSTD_isError(zret)) {
                rm_rf(tmp);
                die("%s is damaged (%s); download it again", self_path, ZSTD_getErrorName(zret));
            }
            untar_feed(&t, out, ob.pos);
        }
    }
    close(fd);
    ZSTD_freeDCtx(z);
    sha256_hex(&sha, hex);
    if (strcmp(hex, PAYLOAD_SHA256) || zret != 0 || !t.ended) {
        rm_rf(tmp);
        die("%s is damaged (payload sha256 %s, expected %s); download it again", self_path, hex, PAYLOAD_SHA256);
    }
    /* Durable before it is visible: a power cut must not leave a runtime
       of empty files where later runs would find it. */
    int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { syncfs(dfd); close(dfd); }
    if (rename(tmp, runtime)) {
        int err = errno;
        rm_rf(tmp);
        if (err != EEXIST && err != ENOTEMPTY) die("cannot move the runtime into %s: %s", runtime, strerror(err));
        return; /* another first run got there first: use its runtime */
    }
    fprintf(stderr, "v2m: first run of this build: unpacked %lu files (%.0f MB) into %s in %.1f s\n"
                    "v2m: later runs start from there; `v2m self uninstall` removes it\n",
            t.files, t.bytes / 1e6, runtime, now_s() - start);
}

int main(int argc, char **argv) {
    char entry[4096 + 8];
    (void)argc;
    find_runtime();
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n < 0) die("cannot find my own path in /proc/self/exe");
    self_path[n] = 0;
    /* For `v2m self` and `v2m service install`: where this came from. */
    setenv("V2M_RUN_FILE", self_path, 1);
    setenv("V2M_RUNTIME_DIR", runtime, 1);
    snprintf(entry, sizeof entry, "%s/" ENTRY, runtime);
    execv(entry, argv);
    if (errno != ENOENT) die("cannot run %s: %s", entry, strerror(errno));
    struct stat st;
    if (lstat(runtime, &st) == 0) {
        /* A runtime appears whole (rename), so one without its entry is
           damaged, unless another first run has just put it in place. */
        if (lstat(entry, &st) == 0) {
            execv(entry, argv);
            die("cannot run %s: %s", entry, strerror(errno));
        }
        char aside[3584];
        snprintf(aside, sizeof aside, "%s/.unpack-damaged-XXXXXX", runtime_root);
        if (!mkdtemp(aside)) die("%s is damaged; remove it (`rm -rf %s`)", runtime, runtime);
        if (rename(runtime, aside) && errno != ENOENT) die("%s is damaged; remove it (`rm -rf %s`)", runtime, runtime);
        rm_rf(aside);
    }
    unpack();
    execv(entry, argv);
    die("cannot run %s: %s", entry, strerror(errno));
}
