/* A driver for the fuzz targets without libFuzzer:
 *
 *   fuzz_NAME_standalone [-n N] [-seed S] FILE_OR_DIR...
 *
 * Feeds every file given (the files of a directory, in name order) to
 * LLVMFuzzerTestOneInput, then, with -n, N inputs derived from them by simple mutations
 * (bit flips, byte changes, truncation, insertion, deletion, splices). The mutations come
 * from a fixed pseudo-random generator seeded with S (default 1), so a run is repeatable:
 * a failure at mutation K reproduces with the same arguments. Every input is passed in a
 * buffer of exactly its size, so a sanitizer build catches reads past the end. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#define INPUT_SIZE_CAP (256 * 1024)
#define INPUT_COUNT_CAP 4096

typedef struct {
    unsigned char *data;
    size_t size;
} input_t;

static input_t inputs[INPUT_COUNT_CAP];
static size_t n_inputs;
static uint64_t rng_state;

static void usage(void)
{
    fprintf(stderr, "usage: fuzz_NAME_standalone [-n N] [-seed S] FILE_OR_DIR...\n");
    exit(2);
}

static uint64_t rng_next(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t rng_below(size_t n)
{
    return n == 0 ? 0 : (size_t)(rng_next() % n);
}

static long parse_count(const char *s)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0)
        usage();
    return v;
}

static void run_one(const unsigned char *data, size_t size)
{
    /* An exact-size heap copy: no slack for an overread to hide in. */
    unsigned char *copy = malloc(size > 0 ? size : 1);

    if (copy == NULL)
        abort();
    if (size > 0)
        memcpy(copy, data, size);
    LLVMFuzzerTestOneInput(copy, size);
    free(copy);
}

static void add_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    size_t n;

    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    buf = malloc(INPUT_SIZE_CAP);
    if (buf == NULL)
        abort();
    n = fread(buf, 1, INPUT_SIZE_CAP, f);
    fclose(f);
    if (n_inputs == INPUT_COUNT_CAP) {
        fprintf(stderr, "too many inputs\n");
        exit(2);
    }
    inputs[n_inputs].data = buf;
    inputs[n_inputs].size = n;
    n_inputs++;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void add_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *names[INPUT_COUNT_CAP];
    size_t n = 0, i;

    if (d == NULL) {
        fprintf(stderr, "cannot open %s\n", dir);
        exit(2);
    }
    while ((e = readdir(d)) != NULL && n < INPUT_COUNT_CAP) {
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        struct stat st;

        if (e->d_name[0] == '.')
            continue;
        names[n] = malloc(len);
        if (names[n] == NULL)
            abort();
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        if (stat(names[n], &st) == 0 && S_ISREG(st.st_mode))
            n++;
        else
            free(names[n]);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), name_cmp);
    for (i = 0; i < n; i++) {
        add_file(names[i]);
        free(names[i]);
    }
}

static void add_path(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "cannot stat %s\n", path);
        exit(2);
    }
    if (S_ISDIR(st.st_mode))
        add_dir(path);
    else
        add_file(path);
}

/* One mutation of buf (size *size, room cap) in place. */
static void mutate_once(unsigned char *buf, size_t *size, size_t cap)
{
    size_t n = *size, at = rng_below(n + 1), len;
    const input_t *other;

    switch (rng_below(7)) {
    case 0: /* flip one bit */
        if (n > 0)
            buf[at % n] ^= (unsigned char)(1u << rng_below(8));
        break;
    case 1: /* set one byte, often to an interesting value */
        if (n > 0) {
            static const unsigned char special[] = { 0, 0xff, 0x7f, 0x80, '%', '/', '\\',
                                                     '.', '"', ':', '\n', '=', '&' };
            buf[at % n] = rng_below(2) ? special[rng_below(sizeof(special))]
                                       : (unsigned char)rng_next();
        }
        break;
    case 2: /* truncate */
        *size = at;
        break;
    case 3: /* insert a byte */
        if (n < cap) {
            memmove(buf + at + 1, buf + at, n - at);
            buf[at] = (unsigned char)rng_next();
            *size = n + 1;
        }
        break;
    case 4: /* delete a range */
        len = rng_below(n - at + 1);
        memmove(buf + at, buf + at + len, n - at - len);
        *size = n - len;
        break;
    case 5: /* duplicate a range */
        len = rng_below(n - at + 1);
        if (len > 0 && n + len <= cap) {
            memmove(buf + at + len, buf + at, n - at);
            *size = n + len;
        }
        break;
    default: /* splice: our prefix, another input's suffix */
        other = &inputs[rng_below(n_inputs)];
        len = other->size - rng_below(other->size + 1);
        if (at + len > cap)
            len = cap - at;
        memcpy(buf + at, other->data + (other->size - len), len);
        *size = at + len;
        break;
    }
}

static void run_mutations(long count)
{
    unsigned char *buf = malloc(INPUT_SIZE_CAP);
    long i;

    if (buf == NULL)
        abort();
    for (i = 0; i < count; i++) {
        const input_t *base = &inputs[rng_below(n_inputs)];
        size_t size = base->size, rounds = 1 + rng_below(4), r;

        memcpy(buf, base->data, size);
        for (r = 0; r < rounds; r++)
            mutate_once(buf, &size, INPUT_SIZE_CAP);
        run_one(buf, size);
    }
    free(buf);
}

int main(int argc, char **argv)
{
    long count = 0, seed = 1;
    size_t i;
    int a;

    for (a = 1; a < argc && argv[a][0] == '-'; a++) {
        if (strcmp(argv[a], "-n") == 0 && a + 1 < argc)
            count = parse_count(argv[++a]);
        else if (strcmp(argv[a], "-seed") == 0 && a + 1 < argc)
            seed = parse_count(argv[++a]);
        else
            usage();
    }
    for (; a < argc; a++)
        add_path(argv[a]);
    if (n_inputs == 0 && count > 0) {
        static unsigned char empty[1];

        inputs[0].data = empty;
        n_inputs = 1;
    }
    afb_fuzz_init();
    for (i = 0; i < n_inputs; i++)
        run_one(inputs[i].data, inputs[i].size);
    rng_state = (uint64_t)seed;
    run_mutations(count);
    printf("%zu seed inputs and %ld mutations ran\n", n_inputs, count);
    return 0;
}
