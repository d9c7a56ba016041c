// SPDX-License-Identifier: GPL-2.0
/* See exe_unmapped.h. */
#include "exe_unmapped.h"
