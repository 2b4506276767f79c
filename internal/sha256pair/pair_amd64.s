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

// k holds SHA-256's round constants (FIPS 180-4, 4.2.2).
DATA ·k+0(SB)/4, $0x428a2f98
DATA ·k+4(SB)/4, $0x71374491
DATA ·k+8(SB)/4, $0xb5c0fbcf
DATA ·k+12(SB)/4, $0xe9b5dba5
DATA ·k+16(SB)/4, $0x3956c25b
DATA ·k+20(SB)/4, $0x59f111f1
DATA ·k+24(SB)/4, $0x923f82a4
DATA ·k+28(SB)/4, $0xab1c5ed5
DATA ·k+32(SB)/4, $0xd807aa98
DATA ·k+36(SB)/4, $0x12835b01
DATA ·k+40(SB)/4, $0x243185be
DATA ·k+44(SB)/4, $0x550c7dc3
DATA ·k+48(SB)/4, $0x72be5d74
DATA ·k+52(SB)/4, $0x80deb1fe
DATA ·k+56(SB)/4, $0x9bdc06a7
DATA ·k+60(SB)/4, $0xc19bf174
DATA ·k+64(SB)/4, $0xe49b69c1
DATA ·k+68(SB)/4, $0xefbe4786
DATA ·k+72(SB)/4, $0x0fc19dc6
DATA ·k+76(SB)/4, $0x240ca1cc
DATA ·k+80(SB)/4, $0x2de92c6f
DATA ·k+84(SB)/4, $0x4a7484aa
DATA ·k+88(SB)/4, $0x5cb0a9dc
DATA ·k+92(SB)/4, $0x76f988da
DATA ·k+96(SB)/4, $0x983e5152
DATA ·k+100(SB)/4, $0xa831c66d
DATA ·k+104(SB)/4, $0xb00327c8
DATA ·k+108(SB)/4, $0xbf597fc7
DATA ·k+112(SB)/4, $0xc6e00bf3
DATA ·k+116(SB)/4, $0xd5a79147
DATA ·k+120(SB)/4, $0x06ca6351
DATA ·k+124(SB)/4, $0x14292967
DATA ·k+128(SB)/4, $0x27b70a85
DATA ·k+132(SB)/4, $0x2e1b2138
DATA ·k+136(SB)/4, $0x4d2c6dfc
DATA ·k+140(SB)/4, $0x53380d13
DATA ·k+144(SB)/4, $0x650a7354
DATA ·k+148(SB)/4, $0x766a0abb
DATA ·k+152(SB)/4, $0x81c2c92e
DATA ·k+156(SB)/4, $0x92722c85
DATA ·k+160(SB)/4, $0xa2bfe8a1
DATA ·k+164(SB)/4, $0xa81a664b
DATA ·k+168(SB)/4, $0xc24b8b70
DATA ·k+172(SB)/4, $0xc76c51a3
DATA ·k+176(SB)/4, $0xd192e819
DATA ·k+180(SB)/4, $0xd6990624
DATA ·k+184(SB)/4, $0xf40e3585
DATA ·k+188(SB)/4, $0x106aa070
DATA ·k+192(SB)/4, $0x19a4c116
DATA ·k+196(SB)/4, $0x1e376c08
DATA ·k+200(SB)/4, $0x2748774c
DATA ·k+204(SB)/4, $0x34b0bcb5
DATA ·k+208(SB)/4, $0x391c0cb3
DATA ·k+212(SB)/4, $0x4ed8aa4a
DATA ·k+216(SB)/4, $0x5b9cca4f
DATA ·k+220(SB)/4, $0x682e6ff3
DATA ·k+224(SB)/4, $0x748f82ee
DATA ·k+228(SB)/4, $0x78a5636f
DATA ·k+232(SB)/4, $0x84c87814
DATA ·k+236(SB)/4, $0x8cc70208
DATA ·k+240(SB)/4, $0x90befffa
DATA ·k+244(SB)/4, $0xa4506ceb
DATA ·k+248(SB)/4, $0xbef9a3f7
DATA ·k+252(SB)/4, $0xc67178f2
GLOBL ·k(SB), RODATA|NOPTR, $256

// byteSwap is the PSHUFB mask that reads four big-endian words.
DATA ·byteSwap+0(SB)/8, $0x0405060700010203
DATA ·byteSwap+8(SB)/8, $0x0c0d0e0f08090a0b
GLOBL ·byteSwap(SB), RODATA|NOPTR, $16
