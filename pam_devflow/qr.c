/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "qr.h"

static void QRcode_freep(QRcode **q) {
        if (*q)
                QRcode_free(*q);
}

/* The smallest symbol: level L decides the version; M is taken when it fits in the same version
 * (more error correction for free). */
static int qr_encode(const char *text, QRcode **ret) {
        QRcode *l, *m;

        assert(text);
        assert(ret);

        if (!*text)
                return -EINVAL;
        if (strlen(text) > QR_TEXT_MAX)
                return -E2BIG;

        errno = 0;
        l = QRcode_encodeString8bit(text, /* version= */ 0, QR_ECLEVEL_L);
        if (!l)
                return errno == ENOMEM ? -ENOMEM : errno == ERANGE ? -E2BIG : -EINVAL;

        m = QRcode_encodeString8bit(text, /* version= */ 0, QR_ECLEVEL_M);
        if (m && m->version == l->version) {
                QRcode_free(l);
                *ret = m;
                return 0;
        }
        if (m)
                QRcode_free(m);
        *ret = l;
        return 0;
}

static unsigned modules_to_columns(unsigned modules, QrStyle style) {
        return style == QR_STYLE_ASCII ? 2 * modules : modules;
}

static unsigned pick_quiet_zone(unsigned width, QrStyle style) {
        if (modules_to_columns(width + 2 * QR_QUIET_ZONE, style) <= QR_MAX_COLUMNS)
                return QR_QUIET_ZONE;
        return QR_QUIET_ZONE_MIN;
}

static bool is_dark(const QRcode *q, unsigned qz, unsigned x, unsigned y) {
        unsigned w = (unsigned) q->width;

        /* coordinates include the quiet zone */
        if (x < qz || y < qz || x >= qz + w || y >= qz + w)
                return false;
        return q->data[(y - qz) * w + (x - qz)] & 1;
}

int qr_columns(const char *text, QrStyle style) {
        _cleanup_(QRcode_freep) QRcode *q = NULL;
        int r;

        if (!text || style < 0 || style >= _QR_STYLE_MAX)
                return -EINVAL;
        if (style == QR_STYLE_NONE)
                return 0;

        r = qr_encode(text, &q);
        if (r < 0)
                return r;

        unsigned w = (unsigned) q->width;
        return (int) modules_to_columns(w + 2 * pick_quiet_zone(w, style), style);
}

int qr_render(const char *text, QrStyle style, char **ret) {
        _cleanup_(QRcode_freep) QRcode *q = NULL;
        _cleanup_free_ char *buf = NULL;
        unsigned w, qz, n, cols;
        size_t sz;
        char *p;
        int r;

        if (!text || !ret || style < 0 || style >= _QR_STYLE_MAX)
                return -EINVAL;

        if (style == QR_STYLE_NONE) {
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
                *ret = TAKE_PTR(buf);
                return 0;
        }

        r = qr_encode(text, &q);
        if (r < 0)
                return r;

        w = (unsigned) q->width;
        qz = pick_quiet_zone(w, style);
        n = w + 2 * qz;                         /* modules per side, quiet zone included */
        cols = modules_to_columns(n, style);

        if (style == QR_STYLE_ASCII)
                sz = (size_t) n * (2 * n + 1) + 1;
        else    /* up to 3 bytes per half block, (n + 1) / 2 lines */
                sz = (size_t) ((n + 1) / 2) * (3 * n + 1) + 1;

        buf = malloc(sz);
        if (!buf)
                return -ENOMEM;
        p = buf;

        if (style == QR_STYLE_ASCII)
                for (unsigned y = 0; y < n; y++) {
                        for (unsigned x = 0; x < n; x++) {
                                char c = is_dark(q, qz, x, y) ? '#' : ' ';
                                *p++ = c;
                                *p++ = c;
                        }
                        *p++ = '\n';
                }
        else
                for (unsigned y = 0; y < n; y += 2) {
                        for (unsigned x = 0; x < n; x++) {
                                bool top = is_dark(q, qz, x, y),
                                     bottom = y + 1 < n && is_dark(q, qz, x, y + 1);
                                const char *s = top && bottom ? "\u2588" :   /* █ */
                                                top ? "\u2580" :             /* ▀ */
                                                bottom ? "\u2584" :          /* ▄ */
                                                " ";
                                size_t l = strlen(s);
                                memcpy(p, s, l);
                                p += l;
                        }
                        *p++ = '\n';
                }
        *p = 0;
        assert((size_t) (p - buf) < sz);

        *ret = TAKE_PTR(buf);
        return (int) cols;
}

const char *qr_pick_text(const char *uri_complete, const char *uri, QrStyle style) {
        bool have_complete = uri_complete && *uri_complete, have_uri = uri && *uri;

        if (have_complete) {
                int c = qr_columns(uri_complete, style);
                if (c >= 0 && (unsigned) c <= QR_MAX_COLUMNS)
                        return uri_complete;
        }
        if (have_uri)
                return uri;
        return have_complete ? uri_complete : NULL;
}
