// SPDX-License-Identifier: GPL-2.0
/* exe_unmapped with the executable deleted too: see exe_unmapped.h. */
#define EXE_DELETED 1
#include "exe_unmapped.h"
