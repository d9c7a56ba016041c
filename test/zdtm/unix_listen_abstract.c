// SPDX-License-Identifier: GPL-2.0
/*
 * Listening unix sockets bound to abstract names (with the test's pid in
 * them), and connections accepted from them: see unix_listen.h.
 */
#include "unix_listen.h"

int main(int argc, char **argv)
{
	return listen_main(argc, argv, true);
}
