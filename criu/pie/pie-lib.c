// SPDX-License-Identifier: GPL-2.0
#include "pie-lib.h"
#include "pie-syscall.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || !n)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	size_t i;

	for (i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static char *fmt_num(char *end, unsigned long v, int base)
{
	*--end = 0;
	do {
		*--end = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	return end;
}

void pie_log(int fd, const char *msg, long num)
{
	char buf[256], dec[24], hex[24];
	char *d, *h;
	size_t len = 0, l;

	if (fd < 0)
		return;
	l = strlen(msg);
	if (l > 160)
		l = 160;
	memcpy(buf, msg, l);
	len = l;
	d = fmt_num(dec + sizeof(dec), num < 0 ? -num : num, 10);
	h = fmt_num(hex + sizeof(hex), num, 16);
	buf[len++] = ' ';
	if (num < 0)
		buf[len++] = '-';
	l = strlen(d);
	memcpy(buf + len, d, l);
	len += l;
	memcpy(buf + len, " (0x", 4);
	len += 4;
	l = strlen(h);
	memcpy(buf + len, h, l);
	len += l;
	buf[len++] = ')';
	buf[len++] = '\n';
	sys_write(fd, buf, len);
}

void pie_log_str(int fd, const char *msg, const char *str)
{
	char buf[512];
	size_t len, l;

	if (fd < 0)
		return;
	len = strlen(msg);
	if (len > 200)
		len = 200;
	memcpy(buf, msg, len);
	buf[len++] = ' ';
	l = strlen(str);
	if (l > 290)
		l = 290;
	memcpy(buf + len, str, l);
	len += l;
	buf[len++] = '\n';
	sys_write(fd, buf, len);
}
