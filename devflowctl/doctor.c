/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "doctor.h"

int doctor_run(const DoctorOptions *o) {
        return 0;
}
