// SPDX-License-Identifier: GPL-2.0
/* Pause points for the tests that kill the dumper (see fault.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"

#define FAULT_PAUSE_ENV "CRIU_FAULT_DUMP_PAUSE"
#define FAULT_PAUSE_SECONDS 60

void fault_pause(const char *point)
{
	const char *want = getenv(FAULT_PAUSE_ENV);
	unsigned left = FAULT_PAUSE_SECONDS;

	if (!want || strcmp(want, point))
		return;
	pr_info("fault point %s reached (%s): pausing\n", point, FAULT_PAUSE_ENV);
	while (left)
		left = sleep(left);
}
