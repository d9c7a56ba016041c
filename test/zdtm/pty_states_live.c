// SPDX-License-Identifier: GPL-2.0
/* zdtm: dump-opts=--leave-running */
/*
 * Pty pairs whose slave is closed, never opened, or locked (see
 * pty_states.h), dumped with --leave-running: the original goes on and
 * must find each pair as it was.
 */
#include "pty_states.h"

int main(int argc, char **argv)
{
	return states_main(argc, argv);
}
