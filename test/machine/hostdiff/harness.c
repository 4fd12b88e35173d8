/*
 * Host-CPU oracle for the ALU differential test (ARCHITECTURE §7). Runs short x86-64 instruction
 * sequences natively in user mode and reports the resulting registers and RFLAGS.
 *
 * stdin:  records of CASE_BYTES: u64 regs[16] (RAX..R15 in SDM order; RSP is ignored), u64 rflags
 *         (arithmetic flags; bit 1, IF are forced), u32 code length, u32 reserved, u8 code[MAX_CODE].
 * stdout: records of RESULT_BYTES: u64 regs[16] (RSP = input), u64 rflags, u64 status
 *         (0 = ok, 1 = #DE (SIGFPE), 2 = #UD (SIGILL), 3 = other fault (SIGSEGV/SIGBUS/SIGTRAP)).
 *
 * The sequences must not use RSP or memory: the trampoline calls them with the host stack, and a
 * `ret` appended after the code returns to it. Code runs from pages mapped RW, filled for a whole
 * batch, then switched to RX (no RWX mapping needed).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_CODE 112
#define CASE_BYTES (17 * 8 + 8 + MAX_CODE)
#define RESULT_BYTES (18 * 8)
#define SLOT 128
#define BATCH 4096

struct state { uint64_t regs[16]; uint64_t rflags; };

/* run_case(struct state *s, void *code): loads s into the GPRs (except RSP) and RFLAGS, calls code,
 * stores the GPRs and RFLAGS back into s. Preserves the SysV callee-saved registers. */
void run_case(struct state *s, void *code);
__asm__(
  ".text\n.globl run_case\n.type run_case,@function\nrun_case:\n"
  "  push %rbp\n  push %rbx\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
  "  push %rdi\n"                      /* [rsp+8] = state */
  "  push %rsi\n"                      /* [rsp]   = code  */
  "  pushq 128(%rdi)\n  popfq\n"
  "  mov 0(%rdi),%rax\n  mov 8(%rdi),%rcx\n  mov 16(%rdi),%rdx\n  mov 24(%rdi),%rbx\n"
  "  mov 40(%rdi),%rbp\n  mov 48(%rdi),%rsi\n"
  "  mov 64(%rdi),%r8\n  mov 72(%rdi),%r9\n  mov 80(%rdi),%r10\n  mov 88(%rdi),%r11\n"
  "  mov 96(%rdi),%r12\n  mov 104(%rdi),%r13\n  mov 112(%rdi),%r14\n  mov 120(%rdi),%r15\n"
  "  mov 56(%rdi),%rdi\n"
  "  call *(%rsp)\n"
  "  pushfq\n"                         /* [rsp]=rflags [rsp+8]=code [rsp+16]=state */
  "  push %rdi\n"                      /* [rsp]=rdi */
  "  mov 24(%rsp),%rdi\n"
  "  popq 56(%rdi)\n  popq 128(%rdi)\n"
  "  mov %rax,0(%rdi)\n  mov %rcx,8(%rdi)\n  mov %rdx,16(%rdi)\n  mov %rbx,24(%rdi)\n"
  "  mov %rbp,40(%rdi)\n  mov %rsi,48(%rdi)\n"
  "  mov %r8,64(%rdi)\n  mov %r9,72(%rdi)\n  mov %r10,80(%rdi)\n  mov %r11,88(%rdi)\n"
  "  mov %r12,96(%rdi)\n  mov %r13,104(%rdi)\n  mov %r14,112(%rdi)\n  mov %r15,120(%rdi)\n"
  "  add $16,%rsp\n"
  "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbx\n  pop %rbp\n"
  "  ret\n"
  ".size run_case, .-run_case\n");

static sigjmp_buf fault_jump;
static volatile sig_atomic_t fault_status;

static void on_fault(int sig) {
  fault_status = sig == SIGFPE ? 1 : sig == SIGILL ? 2 : 3;
  siglongjmp(fault_jump, 1);
}

/* Runs one case; returns its status. A separate frame so nothing live is clobbered by siglongjmp. */
static __attribute__((noinline)) uint64_t run_guarded(struct state *s, void *code) {
  fault_status = 0;
  if (sigsetjmp(fault_jump, 1) == 0) {
    run_case(s, code);
    return 0;
  }
  return (uint64_t)fault_status;
}

static int read_full(unsigned char *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(0, buf + got, len - got);
    if (n <= 0) return got == 0 ? 0 : -1;
    got += (size_t)n;
  }
  return 1;
}

static void write_full(const unsigned char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(1, buf, len);
    if (n <= 0) { perror("harness: write"); exit(1); }
    buf += n; len -= (size_t)n;
  }
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fault;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGTRAP, &sa, NULL);

  unsigned char *code = mmap(NULL, (size_t)BATCH * SLOT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  static unsigned char in[BATCH][CASE_BYTES];
  static unsigned char out[BATCH][RESULT_BYTES];
  if (code == MAP_FAILED) { perror("harness: mmap"); return 1; }

  for (;;) {
    int n = 0, r = 0;
    while (n < BATCH && (r = read_full(in[n], CASE_BYTES)) == 1) n++;
    if (r < 0) { fprintf(stderr, "harness: truncated case record\n"); return 1; }
    if (n == 0) break;
    mprotect(code, (size_t)BATCH * SLOT, PROT_READ | PROT_WRITE);
    for (int i = 0; i < n; i++) {
      uint32_t len;
      memcpy(&len, in[i] + 17 * 8, 4);
      if (len > MAX_CODE) { fprintf(stderr, "harness: case %d: code length %u > %d\n", i, len, MAX_CODE); return 1; }
      memset(code + (size_t)i * SLOT, 0xcc, SLOT);
      memcpy(code + (size_t)i * SLOT, in[i] + 18 * 8, len);
      code[(size_t)i * SLOT + len] = 0xc3; /* ret */
    }
    mprotect(code, (size_t)BATCH * SLOT, PROT_READ | PROT_EXEC);
    for (int i = 0; i < n; i++) {
      struct state s;
      memcpy(&s, in[i], sizeof s);
      uint64_t rsp = s.regs[4];
      s.rflags = (s.rflags & 0x8d5) | 0x202;
      uint64_t status = run_guarded(&s, code + (size_t)i * SLOT);
      if (status != 0) memcpy(&s, in[i], sizeof s);
      s.regs[4] = rsp;
      memcpy(out[i], &s, sizeof s);
      memcpy(out[i] + 17 * 8, &status, 8);
    }
    write_full(out[0], (size_t)n * RESULT_BYTES);
    if (n < BATCH) break;
  }
  return 0;
}
