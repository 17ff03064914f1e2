// Stream data-width converter for any IN_WIDTH/OUT_WIDTH pair (not only integer ratios).
//
// Framing: a frame is a bit string of TOTAL_BITS bits, sent least significant bit first
// across words: NIN = ceil(TOTAL_BITS/IN_WIDTH) input words, NOUT =
// ceil(TOTAL_BITS/OUT_WIDTH) output words. Bit b of the frame is bit b % W of word b / W
// on either side. When TOTAL_BITS is not a multiple of IN_WIDTH, the bits of the last input
// word above the frame are ignored; when it is not a multiple of OUT_WIDTH, the last
// output word of each frame is zero-padded at the top. The next frame starts in a fresh
// word on both sides.
//
// Implementation: a bit buffer of B = IN_WIDTH + OUT_WIDTH + min(IN_WIDTH, OUT_WIDTH) - G
// bits (G = gcd(IN_WIDTH, OUT_WIDTH, TOTAL_BITS), the unit every bit count is a multiple
// of, so shifts move whole units). Words are appended above the buffered bits and taken
// from the bottom. The input is accepted while a whole input word fits without counting
// this cycle's output, so s_axis_tready does not depend on m_axis_tready, nor
// m_axis_tvalid on s_axis_tvalid. B is the least that keeps the narrower side busy every
// cycle: upsizing, an input must fit on top of up to OUT-G bits (no full output word
// yet) plus the input word that arrived meanwhile; downsizing, an input must be accepted
// while up to 2*OUT-G bits wait, or the output starves. (A model sweep over all widths up
// to 16 and many frame sizes confirms the bound is tight; a smaller buffer would lose
// cycles, never data.)
//
// Timing without stalls (checked by the testbench): an input word is in the buffer one
// cycle after its handshake; output word j of the stream leaves at
//   t_out(j) = max(t_out(j-1) + 1, t_in(w(j)) + 1),
// with w(j) the input word holding its last frame bit (input words at t_in(i) = i). For
// F back-to-back frames that makes F*max(NIN, NOUT) + 1 or + 2 cycles from the first
// input handshake to the last output handshake (+ 1 whenever NOUT > NIN; + 2 when the
// tail of the last frame leaves a backlog of output words, e.g. 2 -> 3 bits with
// TOTAL_BITS = 4). Equal widths: a wire (latency 0), masking the top of the last word of
// each frame when TOTAL_BITS is not a multiple of the width: F*NIN cycles.
//
// Integer upsizing (OUT_WIDTH = R * IN_WIDTH, TOTAL_BITS a multiple of OUT_WIDTH: no
// partial word on either side), the common case between a narrow producer and a wide
// consumer: no shifter. The first R-1 words of an output word wait in a register at fixed
// places; the R-th is written with them straight into the output register, so the
// schedule is the one above and the cost is flip-flops (2 * OUT_WIDTH - IN_WIDTH) and a
// word counter. The R-th word waits while the output register is full.
module stream_dwc #(
    parameter int IN_WIDTH   = 8,
    parameter int OUT_WIDTH  = 32,
    parameter int TOTAL_BITS = 32
) (
    input  logic                 clk,
    input  logic                 rst_n,
    input  logic [ IN_WIDTH-1:0] s_axis_tdata,
    input  logic                 s_axis_tvalid,
    output logic                 s_axis_tready,
    output logic [OUT_WIDTH-1:0] m_axis_tdata,
    output logic                 m_axis_tvalid,
    input  logic                 m_axis_tready
);
  function automatic int gcd(int a, int b);
    int t;
    for (int i = 0; i < 64; i++) begin  // Euclid needs < 48 steps for 32-bit values
      if (b != 0) begin
        t = a % b;
        a = b;
        b = t;
      end
    end
    gcd = a;  // Yosys 0.23 has no `return`
  endfunction

  localparam int NIN = (TOTAL_BITS + IN_WIDTH - 1) / IN_WIDTH;  // input words per frame
  localparam int NOUT = (TOTAL_BITS + OUT_WIDTH - 1) / OUT_WIDTH;  // output words per frame
  localparam int RIN = TOTAL_BITS - (NIN - 1) * IN_WIDTH;  // frame bits in the last input word
  localparam int ROUT = TOTAL_BITS - (NOUT - 1) * OUT_WIDTH;  // ... in the last output word

  generate
    if (IN_WIDTH < 1 || OUT_WIDTH < 1 || TOTAL_BITS < 1) begin : g_bad
      $error("stream_dwc: IN_WIDTH, OUT_WIDTH and TOTAL_BITS must be positive");
    end
  endgenerate

  localparam logic [IN_WIDTH-1:0] IN_LAST_MASK = {IN_WIDTH{1'b1}} >> (IN_WIDTH - RIN);
  localparam logic [OUT_WIDTH-1:0] OUT_LAST_MASK = {OUT_WIDTH{1'b1}} >> (OUT_WIDTH - ROUT);

  if (IN_WIDTH == OUT_WIDTH) begin : g_equal
    assign s_axis_tready = m_axis_tready;
    assign m_axis_tvalid = s_axis_tvalid;
    if (RIN == IN_WIDTH) begin : g_wire
      assign m_axis_tdata = s_axis_tdata;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused = &{1'b0, clk, rst_n};
      /* verilator lint_on UNUSEDSIGNAL */
    end else begin : g_mask
      // Count words to find the last one of each frame and clear its top.
      localparam int WW = $clog2(NIN);  // NIN >= 2 here
      logic [WW-1:0] word;
      wire last = word == WW'(NIN - 1);
      assign m_axis_tdata = last ? (s_axis_tdata & IN_LAST_MASK) : s_axis_tdata;
      always_ff @(posedge clk) begin
        if (!rst_n) word <= '0;
        else if (s_axis_tvalid && m_axis_tready) word <= last ? '0 : word + 1'b1;
      end
    end
  end else if (OUT_WIDTH % IN_WIDTH == 0 && TOTAL_BITS % OUT_WIDTH == 0) begin : g_upsize
    localparam int R = OUT_WIDTH / IN_WIDTH;  // >= 2 here
    localparam int CW = $clog2(R);
    logic [OUT_WIDTH-IN_WIDTH-1:0] parts;  // words 0..R-2 of the output word being built
    logic [CW-1:0] n;  // words of it received
    logic [OUT_WIDTH-1:0] out_q;
    logic out_v;
    wire last = n == CW'(R - 1);
    assign s_axis_tready = !last || !out_v;
    assign m_axis_tvalid = out_v;
    assign m_axis_tdata = out_q;
    wire push = s_axis_tvalid && s_axis_tready;
    always_ff @(posedge clk) begin
      for (int k = 0; k < R - 1; k++)
        if (push && n == CW'(k)) parts[k*IN_WIDTH+:IN_WIDTH] <= s_axis_tdata;
      if (push && last) out_q <= {s_axis_tdata, parts};
      if (!rst_n) begin
        n     <= '0;
        out_v <= 1'b0;
      end else begin
        if (push) n <= last ? '0 : n + 1'b1;
        if (push && last) out_v <= 1'b1;
        else if (m_axis_tready) out_v <= 1'b0;
      end
    end
  end else begin : g_convert
    localparam int G = gcd(gcd(IN_WIDTH, OUT_WIDTH), TOTAL_BITS);
    localparam int MINW = (IN_WIDTH < OUT_WIDTH) ? IN_WIDTH : OUT_WIDTH;
    localparam int BU = (IN_WIDTH + OUT_WIDTH + MINW) / G - 1;  // buffer size in G-bit units
    localparam int B = BU * G;  // buffer size in bits
    localparam int NW = $clog2(BU + 1);  // width of a unit count
    localparam int IW = (NIN > 1) ? $clog2(NIN) : 1;
    localparam int OW = (NOUT > 1) ? $clog2(NOUT) : 1;
    localparam logic [NW-1:0] IN_U = NW'(IN_WIDTH / G);
    localparam logic [NW-1:0] OUT_U = NW'(OUT_WIDTH / G);
    localparam logic [NW-1:0] RIN_U = NW'(RIN / G);
    localparam logic [NW-1:0] ROUT_U = NW'(ROUT / G);
    localparam logic [NW-1:0] BU_N = NW'(BU);

    logic [B-1:0] buffer;  // frame bits, oldest at bit 0; zero above the filled part
    logic [NW-1:0] filled;  // filled units
    logic [IW-1:0] in_word;  // input word within the frame
    logic [OW-1:0] out_word;  // output word within the frame

    wire in_last = (NIN == 1) || in_word == IW'(NIN - 1);
    wire out_last = (NOUT == 1) || out_word == OW'(NOUT - 1);
    wire [NW-1:0] take = out_last ? ROUT_U : OUT_U;  // units the current output word takes
    wire [NW-1:0] add = in_last ? RIN_U : IN_U;  // units the current input word adds

    assign s_axis_tready = {1'b0, filled} + {1'b0, IN_U} <= {1'b0, BU_N};
    assign m_axis_tvalid = filled >= take;
    assign m_axis_tdata = out_last ? (buffer[OUT_WIDTH-1:0] & OUT_LAST_MASK) : buffer[OUT_WIDTH-1:0];

    wire push = s_axis_tvalid && s_axis_tready;
    wire pop = m_axis_tvalid && m_axis_tready;
    wire [B-1:0] kept = !pop ? buffer : out_last ? buffer >> ROUT : buffer >> OUT_WIDTH;
    wire [NW-1:0] base = pop ? filled - take : filled;  // where the input word goes
    wire [IN_WIDTH-1:0] in_bits = in_last ? (s_axis_tdata & IN_LAST_MASK) : s_axis_tdata;
    wire [B-1:0] placed = B'(in_bits) << (base * G);

    always_ff @(posedge clk) begin
      if (!rst_n) begin
        buffer   <= '0;
        filled   <= '0;
        in_word  <= '0;
        out_word <= '0;
      end else begin
        buffer <= push ? (kept | placed) : kept;
        filled <= push ? base + add : base;
        if (push) in_word <= in_last ? '0 : in_word + 1'b1;
        if (pop) out_word <= out_last ? '0 : out_word + 1'b1;
      end
    end
  end
endmodule
