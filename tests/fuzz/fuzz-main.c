/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A plain driver for a libFuzzer target, so the seed corpus is replayed with any compiler (the unit suite):
 * fuzz-replay-NAME DIR|FILE... feeds each file (each file of each directory) to LLVMFuzzerTestOneInput once.
 * Prints one PASS line per input; a crash or a sanitizer report ends the program. */

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int read_file(const char *path, uint8_t **ret_data, size_t *ret_size) {
        FILE *f = fopen(path, "re");
        uint8_t *buf = NULL;
        size_t n = 0, cap = 0;

        if (!f)
                return -errno;
        for (;;) {
                if (n == cap) {
                        uint8_t *b = realloc(buf, cap = cap ? cap * 2 : 4096);
                        if (!b) {
                                free(buf);
                                fclose(f);
                                return -ENOMEM;
                        }
                        buf = b;
                }
                size_t k = fread(buf + n, 1, cap - n, f);
                n += k;
                if (k == 0)
                        break;
        }
        if (ferror(f)) {
                free(buf);
                fclose(f);
                return -EIO;
        }
        fclose(f);
        *ret_data = buf;
        *ret_size = n;
        return 0;
}

static int run_file(const char *path) {
        uint8_t *data = NULL;
        size_t size = 0;
        int r;

        r = read_file(path, &data, &size);
        if (r < 0) {
                printf("FAIL: %s: %s\n", path, strerror(-r));
                return r;
        }
        (void) LLVMFuzzerTestOneInput(data, size);
        free(data);
        printf("PASS: %s\n", path);
        return 0;
}

static int run_path(const char *path, unsigned *n) {
        struct stat st;
        DIR *d;
        int r = 0;

        if (stat(path, &st) < 0) {
                printf("FAIL: %s: %s\n", path, strerror(errno));
                return -errno;
        }
        if (!S_ISDIR(st.st_mode)) {
                (*n)++;
                return run_file(path);
        }
        d = opendir(path);
        if (!d) {
                printf("FAIL: %s: %s\n", path, strerror(errno));
                return -errno;
        }
        for (struct dirent *de; (de = readdir(d)); ) {
                char *p;

                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&p, "%s/%s", path, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                int k = run_path(p, n);
                free(p);
                if (k < 0 && r == 0)
                        r = k;
        }
        closedir(d);
        return r;
}

int main(int argc, char *argv[]) {
        unsigned n = 0;
        int r = 0;

        for (int i = 1; i < argc; i++) {
                int k = run_path(argv[i], &n);
                if (k < 0 && r == 0)
                        r = k;
        }
        if (n == 0) {
                printf("FAIL: no input replayed\n");
                return EXIT_FAILURE;
        }
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
