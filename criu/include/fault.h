/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_FAULT_H
#define CR_FAULT_H

/*
 * For the tests: with CRIU_FAULT_DUMP_PAUSE=POINT in the environment, the
 * dump stops at POINT for a minute ("seized", "parasite", "pages",
 * "images", "sums"), after logging "fault point POINT reached", so that a
 * test can kill it there. Anything else: no effect.
 */
void fault_pause(const char *point);

#endif
