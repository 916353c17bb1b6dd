/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "reason.h"

char *reason_formatv(const char *format, va_list ap) {
        char *s;

        if (vasprintf(&s, format, ap) < 0)
                return NULL;
        return s;
}

char *reason_format(const char *format, ...) {
        va_list ap;
        char *s;

        va_start(ap, format);
        s = reason_formatv(format, ap);
        va_end(ap);
        return s;
}

int reason_set(char **ret_reason, int error, const char *format, ...) {
        va_list ap;

        if (!ret_reason)
                return error;
        va_start(ap, format);
        *ret_reason = reason_formatv(format, ap);
        va_end(ap);
        return error;
}
