/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QR rendering: shape of the ASCII and UTF-8 forms, quiet zone, choice of URI. With QR_DUMP_DIR set,
 * the renderings of a few URLs are written there for tests/integration/qr-zbar.sh, which decodes
 * them with zbarimg. */

#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "qr.h"
#include "test.h"

static const char *const urls[] = {
        "https://idp.example.com/device",
        "https://idp.example.com/realms/corp/device?user_code=WDJB-MJHT",
        /* 70 bytes: version 4, 33 modules, so only a 2-module quiet zone fits 80 columns */
        "https://login.example.org/realms/engineering/device?user_code=BCDF-GHJK",
        "https://a.example/x?q=%20&r=~!*()';:@$,/#frag",
};

/* Splits a rendering into lines; returns the number of lines, or -1 if the text does not end in '\n'. */
static int split_lines(char *s, char **lines, int max) {
        int n = 0;
        size_t l = strlen(s);

        if (l == 0 || s[l - 1] != '\n')
                return -1;
        for (char *p = s; *p && n < max; ) {
                char *e = strchr(p, '\n');
                *e = 0;
                lines[n++] = p;
                p = e + 1;
        }
        return n;
}

/* Decodes an ASCII rendering into a module grid (1 = dark); checks the two-chars-per-module rule. */
static bool ascii_grid(const char *const *lines, int n, unsigned char *grid, int *ret_side) {
        int side = (int) strlen(lines[0]) / 2;
        if (side != n)
                return false;
        for (int y = 0; y < n; y++) {
                if ((int) strlen(lines[y]) != 2 * side)
                        return false;
                for (int x = 0; x < side; x++) {
                        char a = lines[y][2 * x], b = lines[y][2 * x + 1];
                        if (a != b || (a != '#' && a != ' '))
                                return false;
                        grid[y * side + x] = a == '#';
                }
        }
        *ret_side = side;
        return true;
}

static int quiet_zone(const unsigned char *grid, int side) {
        int q = 0;
        for (; q < side / 2; q++)
                for (int i = 0; i < side; i++)
                        if (grid[q * side + i] || grid[i * side + q] ||
                            grid[(side - 1 - q) * side + i] || grid[i * side + side - 1 - q])
                                return q;
        return q;
}

TEST(ascii_shape) {
        for (size_t k = 0; k < ELEMENTSOF(urls); k++) {
                _cleanup_free_ char *s = NULL;
                char *lines[200];
                unsigned char grid[200 * 200];
                int cols, n, side = 0, qz;

                cols = qr_render(urls[k], QR_STYLE_ASCII, &s);
                CHECK(cols > 0);
                if (cols <= 0)
                        continue;
                CHECK(strspn(s, "# \n") == strlen(s));       /* only '#', ' ' and '\n' */
                CHECK_INTEQ(cols, qr_columns(urls[k], QR_STYLE_ASCII));
                n = split_lines(s, lines, 200);
                CHECK(n > 0);
                if (n <= 0)
                        continue;
                CHECK_INTEQ(strlen(lines[0]), cols);
                CHECK(ascii_grid((const char *const *) lines, n, grid, &side));
                CHECK_INTEQ(side * 2, cols);
                /* QR sides are 17 + 4·version modules plus the quiet zone on both sides */
                qz = quiet_zone(grid, side);
                CHECK(qz >= 2);
                CHECK_INTEQ((side - 2 * qz - 17) % 4, 0);
                /* the finder pattern's top-left corner is dark right after the quiet zone */
                CHECK(grid[qz * side + qz]);
                if (k == 0)     /* short URL: the standard 4-module quiet zone */
                        CHECK_INTEQ(qz, 4);
                if (k <= 2)     /* typical verification URIs fit 80 columns */
                        CHECK(cols <= 80);
                if (k == 2) {   /* version 4: 33 + 2·2 modules = 74 columns */
                        CHECK_INTEQ(qz, 2);
                        CHECK_INTEQ(cols, 74);
                }
        }
}

/* The UTF-8 form draws the same modules as the ASCII form, two rows per line, with half blocks only. */
TEST(utf8_same_modules_as_ascii) {
        for (size_t k = 0; k < ELEMENTSOF(urls); k++) {
                _cleanup_free_ char *a = NULL, *u = NULL;
                char *alines[200], *ulines[200];
                unsigned char grid[200 * 200];
                int na, nu, side = 0, cols;

                CHECK(qr_render(urls[k], QR_STYLE_ASCII, &a) > 0);
                cols = qr_render(urls[k], QR_STYLE_UTF8, &u);
                CHECK(cols > 0);
                if (!a || !u)
                        continue;
                na = split_lines(a, alines, 200);
                nu = split_lines(u, ulines, 200);
                CHECK(ascii_grid((const char *const *) alines, na, grid, &side));
                /* the UTF-8 form may use a wider quiet zone (it has more room): compare the cores */
                CHECK(cols >= side);
                int off = (cols - side) / 2;
                CHECK_INTEQ(nu, (cols + 1) / 2);
                for (int y = 0; y < nu; y++) {
                        const char *p = ulines[y];
                        int x = 0;
                        while (*p) {
                                bool top, bottom;
                                if (*p == ' ') {
                                        top = bottom = false;
                                        p++;
                                } else if (strncmp(p, "\u2588", 3) == 0) {
                                        top = bottom = true;
                                        p += 3;
                                } else if (strncmp(p, "\u2580", 3) == 0) {
                                        top = true, bottom = false;
                                        p += 3;
                                } else if (strncmp(p, "\u2584", 3) == 0) {
                                        top = false, bottom = true;
                                        p += 3;
                                } else {
                                        CHECK(!"unexpected character in UTF-8 rendering");
                                        break;
                                }
                                for (int h = 0; h < 2; h++) {
                                        int gy = 2 * y + h - off, gx = x - off;
                                        bool want = gy >= 0 && gx >= 0 && gy < side && gx < side &&
                                                    grid[gy * side + gx];
                                        if ((h ? bottom : top) != want) {
                                                CHECK(!"UTF-8 module differs from ASCII module");
                                                goto next;
                                        }
                                }
                                x++;
                        }
                        CHECK_INTEQ(x, cols);
                }
        next:;
        }
}

TEST(off_is_empty) {
        _cleanup_free_ char *s = NULL;
        CHECK_INTEQ(qr_render(urls[1], QR_STYLE_NONE, &s), 0);
        CHECK_STREQ(s, "");
        CHECK_INTEQ(qr_columns(urls[1], QR_STYLE_NONE), 0);
}

TEST(bad_input) {
        char *s = NULL;
        char big[QR_TEXT_MAX + 2];

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        CHECK_INTEQ(qr_render("", QR_STYLE_ASCII, &s), -EINVAL);
        CHECK_INTEQ(qr_render(big, QR_STYLE_ASCII, &s), -E2BIG);
        CHECK_INTEQ(qr_render(NULL, QR_STYLE_ASCII, &s), -EINVAL);
        CHECK_INTEQ(qr_render("x", (QrStyle) 7, &s), -EINVAL);
        CHECK(s == NULL);       /* nothing written on failure */
}

TEST(pick_text) {
        const char *uri = "https://idp.example.com/device";
        const char *complete = urls[1];
        char longc[800];

        snprintf(longc, sizeof(longc), "%s?user_code=ABCD-EFGH&padding=%0700d", uri, 0);

        CHECK(qr_pick_text(complete, uri, QR_STYLE_ASCII) == complete);
        CHECK(qr_pick_text(complete, uri, QR_STYLE_UTF8) == complete);
        /* too long for 80 columns: the short URI instead */
        CHECK(qr_columns(longc, QR_STYLE_ASCII) > 80);
        CHECK(qr_pick_text(longc, uri, QR_STYLE_ASCII) == uri);
        CHECK(qr_pick_text(longc, uri, QR_STYLE_UTF8) == uri);
        /* an 80-byte complete URI fits in UTF-8 (half the width) but not in ASCII */
        const char *mid = "https://login.example.org/realms/engineering/protocol/device?user_code=BCDF-GHJK";
        CHECK(qr_pick_text(mid, uri, QR_STYLE_ASCII) == uri);
        CHECK(qr_pick_text(mid, uri, QR_STYLE_UTF8) == mid);
        /* no complete URI */
        CHECK(qr_pick_text("", uri, QR_STYLE_ASCII) == uri);
        CHECK(qr_pick_text(NULL, uri, QR_STYLE_ASCII) == uri);
        /* no short URI: the long complete one anyway, for a wide terminal */
        CHECK(qr_pick_text(longc, "", QR_STYLE_ASCII) == longc);
        CHECK(qr_pick_text("", "", QR_STYLE_ASCII) == NULL);
}

static int write_file(const char *dir, const char *name, size_t k, const char *content) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s-%zu.txt", dir, name, k);
        f = fopen(path, "we");
        if (!f)
                return -errno;
        fputs(content, f);
        if (fclose(f) != 0)
                return -errno;
        return 0;
}

TEST(dump_for_zbar) {
        const char *dir = getenv("QR_DUMP_DIR");

        if (!dir) {
                CHECK(true);    /* nothing asked for */
                return;
        }
        for (size_t k = 0; k < ELEMENTSOF(urls); k++) {
                _cleanup_free_ char *a = NULL, *u = NULL, *url = NULL;

                CHECK(qr_render(urls[k], QR_STYLE_ASCII, &a) > 0);
                CHECK(qr_render(urls[k], QR_STYLE_UTF8, &u) > 0);
                CHECK(asprintf(&url, "%s\n", urls[k]) > 0);
                if (!a || !u || !url)
                        continue;
                CHECK_INTEQ(write_file(dir, "ascii", k, a), 0);
                CHECK_INTEQ(write_file(dir, "utf8", k, u), 0);
                CHECK_INTEQ(write_file(dir, "url", k, url), 0);
        }
}

int main(void) {
        return run_tests();
}
