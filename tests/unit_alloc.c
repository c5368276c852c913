/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * alloc.c, the musl build's allocator, linked in place of the C library's:
 * built by tests/t_package.sh with musl-gcc (alloc.c only replaces musl's).
 * Small blocks across several arenas, arenas given back and used again,
 * calloc on used memory, realloc between small blocks and own mappings.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void expect(const char *name, int ok)
{
	printf("%s %s\n", ok ? "PASS" : "FAIL", name);
	failures += !ok;
}

static int aligned(const void *p)
{
	return (uintptr_t)p % _Alignof(max_align_t) == 0;
}

enum { COUNT = 2000, SIZE = 125 };  /* 2000 blocks of a journal's 125 bytes: several arenas */

int main(void)
{
	static unsigned char *blocks[COUNT];
	int ok = 1;
	for (int i = 0; i < COUNT; i++) {
		blocks[i] = malloc(SIZE);
		ok = ok && blocks[i] && aligned(blocks[i]);
		if (blocks[i])
			memset(blocks[i], i & 0xff, SIZE);
	}
	expect("alloc_small_blocks_aligned", ok);
	ok = 1;
	for (int i = 0; i < COUNT; i++)
		for (int j = 0; ok && j < SIZE; j++)
			ok = blocks[i][j] == (i & 0xff);
	expect("alloc_small_blocks_apart", ok);
	for (int i = 0; i < COUNT; i++)
		free(blocks[i]);
	/* the arena cut from is used again from its start: calloc clears it */
	ok = 1;
	for (int i = 0; i < COUNT; i++) {
		unsigned char *p = calloc(1, SIZE);
		for (int j = 0; p && ok && j < SIZE; j++)
			ok = p[j] == 0;
		ok = ok && p;
		if (p)
			memset(p, 0xff, SIZE);
		blocks[i] = p;
	}
	expect("alloc_calloc_zero_after_reuse", ok);
	for (int i = 0; i < COUNT; i++)
		free(blocks[i]);
	unsigned char *p = malloc(100);
	ok = p != NULL;
	for (int j = 0; ok && j < 100; j++)
		p[j] = (unsigned char)j;
	unsigned char *big = ok ? realloc(p, 1 << 20) : NULL;
	ok = big && aligned(big);
	for (int j = 0; ok && j < 100; j++)
		ok = big[j] == j;
	if (ok)
		big[(1 << 20) - 1] = 7;
	unsigned char *bigger = ok ? realloc(big, 3 << 20) : NULL;
	ok = bigger && bigger[99] == 99 && bigger[(1 << 20) - 1] == 7;
	unsigned char *small = ok ? realloc(bigger, 50) : NULL;
	ok = small && small[49] == 49;
	expect("alloc_realloc_keeps_contents", ok);
	free(small);
	void *zero = calloc(4096, 4096);
	ok = zero && ((unsigned char *)zero)[4096 * 4096 - 1] == 0;
	free(zero);
	expect("alloc_calloc_large_zero", ok);
	volatile size_t half = SIZE_MAX / 2, huge = SIZE_MAX - 8;  /* not known to the compiler */
	void *refused = calloc(half, 4);
	expect("alloc_calloc_overflow_refused", refused == NULL);
	free(refused);
	refused = malloc(huge);
	expect("alloc_huge_refused", refused == NULL);
	free(refused);
	free(NULL);
	return failures != 0;
}
