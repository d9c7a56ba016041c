/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PIE_LIB_H
#define PIE_LIB_H

#include <stddef.h>
#include <stdint.h>

/* The compiler may emit calls to these even in freestanding code. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/*
 * Minimal logging for blobs: writes to fd a message made of a prefix,
 * the string and an optional number (printed in hex and decimal).
 */
void pie_log(int fd, const char *msg, long num);
void pie_log_str(int fd, const char *msg, const char *str);

#endif
