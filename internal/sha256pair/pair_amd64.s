#include "textflag.h"

// The SHA-256 compression of two messages at once with the SHA extensions.
// A state is kept as the instructions want it: ABEF (A in the top dword)
// and CDGH. Each SHA256RNDS2 does two rounds and depends on the one
// before; the two messages' rounds are interleaved, so one message's
// rounds run while the other's wait.

// LOADSTATE reads h[0..7] at ptr into abef, cdgh.
#define LOADSTATE(ptr, abef, cdgh, tmp) \
	MOVOU   0(ptr), abef; \
	MOVOU   16(ptr), cdgh; \
	PSHUFD  $0xb1, abef, abef; \
	PSHUFD  $0x1b, cdgh, cdgh; \
	MOVOU   abef, tmp; \
	PALIGNR $8, cdgh, abef; \
	PBLENDW $0xf0, tmp, cdgh

// STORESTATE writes abef, cdgh back as h[0..7] at ptr.
#define STORESTATE(ptr, abef, cdgh, tmp) \
	PSHUFD  $0x1b, abef, abef; \
	PSHUFD  $0xb1, cdgh, cdgh; \
	MOVOU   abef, tmp; \
	PBLENDW $0xf0, cdgh, abef; \
	PALIGNR $8, tmp, cdgh; \
	MOVOU   abef, 0(ptr); \
	MOVOU   cdgh, 16(ptr)

// LOADMSG reads four big-endian message words at off(ptr) into m.
#define LOADMSG(ptr, off, m) \
	MOVOU  off(ptr), m; \
	PSHUFB X14, m

// ROUNDS does four rounds of each message, with the words in ma and mb
// and the constants at koff(DX), the two messages' rounds alternating.
#define ROUNDS(ma, mb, koff) \
	MOVOU       koff(DX), X13; \
	MOVOU       X13, X15; \
	PADDL       ma, X13; \
	PADDL       mb, X15; \
	MOVOU       X13, X0; \
	SHA256RNDS2 X0, X1, X2; \
	MOVOU       X15, X0; \
	SHA256RNDS2 X0, X7, X8; \
	PSHUFD      $0x0e, X13, X0; \
	SHA256RNDS2 X0, X2, X1; \
	PSHUFD      $0x0e, X15, X0; \
	SHA256RNDS2 X0, X8, X7

// SCHED turns w16 (words t-16..t-13) into words t..t+3, given w12
// (t-12..t-9), w8 (t-8..t-5) and w4 (t-4..t-1).
#define SCHED(w16, w12, w8, w4, tmp) \
	SHA256MSG1 w12, w16; \
	MOVOU      w4, tmp; \
	PALIGNR    $4, w8, tmp; \
	PADDL      tmp, w16; \
	SHA256MSG2 w4, w16

// GROUP is rounds 4i..4i+3 of both messages, i >= 4.
#define GROUP(a16, a12, a8, a4, b16, b12, b8, b4, koff) \
	SCHED(a16, a12, a8, a4, X13); \
	SCHED(b16, b12, b8, b4, X15); \
	ROUNDS(a16, b16, koff)

// func blocks2(ha, hb *[8]uint32, pa, pb *byte, n int)
TEXT ·blocks2(SB), NOSPLIT, $64-40
	MOVQ ha+0(FP), AX
	MOVQ hb+8(FP), BX
	MOVQ pa+16(FP), SI
	MOVQ pb+24(FP), DI
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JZ   done
	LEAQ ·k(SB), DX
	MOVOU ·byteSwap(SB), X14

	LOADSTATE(AX, X1, X2, X13)
	LOADSTATE(BX, X7, X8, X13)

loop:
	MOVOU X1, 0(SP)
	MOVOU X2, 16(SP)
	MOVOU X7, 32(SP)
	MOVOU X8, 48(SP)

	LOADMSG(SI, 0, X3)
	LOADMSG(DI, 0, X9)
	ROUNDS(X3, X9, 0)
	LOADMSG(SI, 16, X4)
	LOADMSG(DI, 16, X10)
	ROUNDS(X4, X10, 16)
	LOADMSG(SI, 32, X5)
	LOADMSG(DI, 32, X11)
	ROUNDS(X5, X11, 32)
	LOADMSG(SI, 48, X6)
	LOADMSG(DI, 48, X12)
	ROUNDS(X6, X12, 48)

	GROUP(X3, X4, X5, X6, X9, X10, X11, X12, 64)
	GROUP(X4, X5, X6, X3, X10, X11, X12, X9, 80)
	GROUP(X5, X6, X3, X4, X11, X12, X9, X10, 96)
	GROUP(X6, X3, X4, X5, X12, X9, X10, X11, 112)
	GROUP(X3, X4, X5, X6, X9, X10, X11, X12, 128)
	GROUP(X4, X5, X6, X3, X10, X11, X12, X9, 144)
	GROUP(X5, X6, X3, X4, X11, X12, X9, X10, 160)
	GROUP(X6, X3, X4, X5, X12, X9, X10, X11, 176)
	GROUP(X3, X4, X5, X6, X9, X10, X11, X12, 192)
	GROUP(X4, X5, X6, X3, X10, X11, X12, X9, 208)
	GROUP(X5, X6, X3, X4, X11, X12, X9, X10, 224)
	GROUP(X6, X3, X4, X5, X12, X9, X10, X11, 240)

	MOVOU 0(SP), X13
	PADDL X13, X1
	MOVOU 16(SP), X13
	PADDL X13, X2
	MOVOU 32(SP), X13
	PADDL X13, X7
	MOVOU 48(SP), X13
	PADDL X13, X8

	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  loop

	STORESTATE(AX, X1, X2, X13)
	STORESTATE(BX, X7, X8, X13)
done:
	RET

// func cpuid(leaf, sub uint32) (eax, ebx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-16
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	RET
