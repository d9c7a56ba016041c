// SPDX-License-Identifier: GPL-2.0
/* Data queued in both directions of a pty pair: see pty_queue.h. */
#include "pty_queue.h"

int main(int argc, char **argv)
{
	return queue_main(argc, argv);
}
