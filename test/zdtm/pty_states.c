// SPDX-License-Identifier: GPL-2.0
/* Pty pairs whose slave is closed, never opened, or locked: see pty_states.h. */
#include "pty_states.h"

int main(int argc, char **argv)
{
	return states_main(argc, argv);
}
