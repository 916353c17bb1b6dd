/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* QR code rendering to text (libqrencode). Pure: no PAM, no I/O, so devflowctl can link it alone.
 *
 * ASCII: two characters per module, "##" dark and "  " light, one line per module row. Over SSH this
 * is the only form that survives OpenSSH's escaping of non-ASCII bytes. A '#' is drawn in the
 * terminal's foreground colour, so on a dark terminal the code appears inverted (light modules on
 * dark): phone scanners read both (zbar with test-inverted does), see tests/integration/qr-zbar.sh.
 * UTF-8: one character per module column and two module rows per line, with ▀ ▄ █ and space.
 * Quiet zone: 4 modules when the result fits QR_MAX_COLUMNS, else 2 (the smallest that still scans). */

#include <errno.h>
#include <stdbool.h>

typedef enum QrStyle {
        QR_STYLE_NONE,
        QR_STYLE_ASCII,
        QR_STYLE_UTF8,
        _QR_STYLE_MAX,
        _QR_STYLE_INVALID = -EINVAL,
} QrStyle;

#define QR_MAX_COLUMNS 80U      /* what a terminal shows without wrapping */
#define QR_TEXT_MAX 1024U       /* longer texts are refused: no sane verification URI is that long */
#define QR_QUIET_ZONE 4U        /* ISO/IEC 18004 */
#define QR_QUIET_ZONE_MIN 2U

/* Renders text as a QR code; *ret is "" for QR_STYLE_NONE. Every line ends in '\n'.
 * Returns the width of the widest line in terminal columns (>= 0), -E2BIG when text is too long to
 * encode, -EINVAL on an empty text or a bad style, -ENOMEM. */
int qr_render(const char *text, QrStyle style, char **ret);

/* The width in terminal columns that qr_render() would produce, or a negative errno. */
int qr_columns(const char *text, QrStyle style);

/* Which URI to encode: the complete one (it carries the code) when there is one and its QR fits
 * QR_MAX_COLUMNS in this style; else the short verification_uri when there is one; else the complete
 * one anyway (a wide terminal may still show it). NULL when both are empty. */
const char *qr_pick_text(const char *uri_complete, const char *uri, QrStyle style);
