/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_FUZZ_H
#define HOSTUSB_FUZZ_H
/*
 * Shared by the fuzz targets.  Built two ways: with -DFUZZ_LIBFUZZER, each
 * target is a libFuzzer program (LLVMFuzzerTestOneInput); without it, every
 * target is linked into tests/unit_fuzz, which replays the recorded inputs in
 * tests/fuzz/seeds/ and tests/fuzz/regressions/ under `make check`.
 *
 * A target checks invariants and calls fuzz_fail() when one does not hold:
 * under libFuzzer that aborts (the input is saved as a crash), in the replay
 * program it becomes a FAIL line.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef FUZZ_LIBFUZZER
#define FUZZ_ENTRY(name) int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#define FUZZ_INIT(name)                                                           \
	static void fuzz_setup_##name(void);                                      \
	int LLVMFuzzerInitialize(int *argc, char ***argv);                        \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                         \
	{                                                                         \
		(void)argc;                                                       \
		(void)argv;                                                       \
		fuzz_setup_##name();                                              \
		return 0;                                                         \
	}                                                                         \
	static void fuzz_setup_##name(void)
#else
#define FUZZ_ENTRY(name) int fuzz_one_##name(const uint8_t *data, size_t size)
#define FUZZ_INIT(name) void fuzz_init_##name(void)
#endif

/* An invariant does not hold: says which, then aborts or fails the replayed input. */
__attribute__((format(printf, 1, 2), noreturn)) void fuzz_fail(const char *fmt, ...);
#define FUZZ_ASSERT(cond, ...) do { if (!(cond)) fuzz_fail(__VA_ARGS__); } while (0)

/*
 * Fails unless a refusal's message (a struct error's, which the program
 * prints after "hostusb: ") is one line of printable ASCII, not empty.
 */
void fuzz_check_message(const char *what, const char *message);

/*
 * A read(2) for xmlpatch_stream (struct xmlpatch_input's read): reads of the
 * document return short counts, in a pattern chosen per input, to reach
 * every chunk boundary of the streaming patcher with small inputs.
 */
ssize_t fuzz_read(int fd, void *buf, size_t count);
void fuzz_read_pattern(uint64_t seed); /* 0: reads as the kernel gives them */

uint64_t fuzz_hash(const uint8_t *data, size_t size);

/*
 * FUZZ_KNOWN_BUGS=1 in the environment relaxes the checks that known, open
 * bugs fail (see tests/fuzz/regressions/), so that a long run can look for
 * others: error positions are not compared between short and whole reads,
 * and error messages are not checked for control characters.  `make fuzz`
 * and `make check` never set it.
 */
int fuzz_known_bugs(void);

/* The replay program calls fn before it leaves with _exit (a failed input). */
void fuzz_at_end(void (*fn)(void));
void fuzz_run_at_end(void);

/* A memfd; fuzz_memfd_set makes it hold exactly data[0, size), at offset 0. */
int fuzz_memfd(const char *name);
void fuzz_memfd_set(int fd, const void *data, size_t size);
/* Every byte of fd from offset 0, in a malloc'd buffer (never NULL). */
uint8_t *fuzz_slurp(int fd, size_t *size);

#endif
