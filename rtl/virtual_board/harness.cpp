// spikefab virtual board: the Verilated SoC behind a pseudo-terminal.
//
// Usage: vboard DIVISOR
// Prints the pty path on the first line of stdout, then runs until SIGTERM/SIGINT.
// Bytes a host writes to the pty are shifted into the SoC's `rx` pin as 8N1 frames of DIVISOR
// clock cycles per bit; frames the SoC sends on `tx` are decoded (mid-bit sampling) and written
// back to the pty.  The clock runs only while something happens (host bytes pending, a frame on
// either pin, the fabric busy) and for QUIET cycles after, so an idle board costs no CPU.
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>
#include <vector>

#include "Vsoc.h"
#include "verilated.h"

static volatile sig_atomic_t g_stop = 0;
static void on_signal(int) { g_stop = 1; }

static const uint64_t QUIET = 200000;  // cycles to keep running after the last activity

int main(int argc, char** argv) {
    int divisor = argc > 1 ? std::atoi(argv[1]) : 4;
    if (divisor < 4) {
        std::fprintf(stderr, "divisor must be >= 4, not %d\n", divisor);
        return 2;
    }
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        std::perror("posix_openpt");
        return 1;
    }
    const char* slave_name = ptsname(master);
    // Keep our own handle on the slave: reads on the master then never fail with EIO while
    // no host has the port open (between two host sessions).
    int slave = open(slave_name, O_RDWR | O_NOCTTY);
    struct termios tio;
    if (slave >= 0 && tcgetattr(slave, &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(slave, TCSANOW, &tio);
    }
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    std::printf("%s\n", slave_name);
    std::fflush(stdout);

    VerilatedContext ctx;
    Vsoc top{&ctx};
    top.rx = 1;
    top.rst = 1;
    for (int i = 0; i < 8; ++i) {
        top.clk = 0; top.eval();
        top.clk = 1; top.eval();
    }
    top.rst = 0;

    std::deque<uint8_t> to_board;
    std::vector<uint8_t> to_host;
    int rx_bit = -1, rx_timer = 0;       // serializer onto `rx`
    uint16_t rx_frame = 0;
    int tx_bit = -1, tx_timer = 0;       // deserializer from `tx`
    uint8_t tx_byte = 0;
    uint64_t quiet = QUIET, cycle = 0;
    uint8_t buf[4096];

    while (!g_stop) {
        bool idle = quiet >= QUIET && to_board.empty() && rx_bit < 0 && tx_bit < 0 && to_host.empty();
        if (idle) {
            struct pollfd p = {master, POLLIN, 0};
            poll(&p, 1, 50);
        }
        if (idle || (cycle & 255) == 0) {
            ssize_t n = read(master, buf, sizeof buf);
            if (n > 0) {
                to_board.insert(to_board.end(), buf, buf + n);
                quiet = 0;
            }
        }
        if (rx_bit < 0 && !to_board.empty()) {
            rx_frame = (uint16_t)((1u << 9) | ((unsigned)to_board.front() << 1));
            to_board.pop_front();
            rx_bit = 0;
            rx_timer = divisor;
        }
        top.rx = rx_bit < 0 ? 1 : (rx_frame >> rx_bit) & 1;
        top.clk = 0; top.eval();
        top.clk = 1; top.eval();
        ++cycle;
        if (rx_bit >= 0 && --rx_timer == 0) {
            rx_timer = divisor;
            if (++rx_bit == 10) rx_bit = -1;
        }
        if (tx_bit < 0) {
            if (!top.tx) { tx_bit = 0; tx_timer = divisor / 2; }
        } else if (--tx_timer == 0) {
            tx_timer = divisor;
            if (tx_bit == 0) {
                tx_bit = top.tx ? -1 : 1;     // a glitch is not a start bit
            } else if (tx_bit <= 8) {
                tx_byte = (uint8_t)((tx_byte >> 1) | (top.tx ? 0x80 : 0));
                ++tx_bit;
            } else {
                if (top.tx) to_host.push_back(tx_byte);
                tx_bit = -1;
            }
        }
        if (!to_host.empty() && (tx_bit < 0 || to_host.size() >= 512)) {
            ssize_t n = write(master, to_host.data(), to_host.size());
            if (n > 0) to_host.erase(to_host.begin(), to_host.begin() + n);
        }
        if (rx_bit >= 0 || tx_bit >= 0 || top.busy) quiet = 0;
        else if (quiet < QUIET) ++quiet;
    }
    top.final();
    if (slave >= 0) close(slave);
    close(master);
    return 0;
}
