// VVAU: vector-vector-activation unit, the depthwise convolution behind the layer VVAU of
// python/qnn2fpga/layers/vvau.py. For each output pixel and channel c < CHANNELS:
//   acc[c] = sum_k x[k][c] * W[c][k]  (k < K = K_H*K_W window positions), exact in ACC_BITS;
//   NO_ACT = 1: out[c] = acc[c] (OUT_BITS = ACC_BITS, signed);
//   else:       out[c] = ACT_VAL + #{t : acc[c] >= T[c][t]} over N_THRES thresholds
//               (OUT_BIPOLAR = 1: one threshold, 1 bit, 1 = +1).
// Folding: CF = CHANNELS / PE channel groups per pixel, SF = K / SIMD words per group.
//
// Streams (element e of a word at bits [e*BITS +: BITS]):
//   s_axis    PE*SIMD*IN_BITS bits; per pixel, for cf < CF, for sf < SF, one word whose
//             element s*PE + pe is x[sf*SIMD + s][cf*PE + pe]: the depthwise window order of
//             convolution_input_generator (DEPTHWISE = 1, SIMD = this PE), SIMD of its words
//             per word (a width converter in between when SIMD > 1).
//   m_axis    PE*OUT_BITS bits; per pixel CF words, word cf = out[cf*PE +: PE].
//   s_axis_w  MEM_MODE "external" only (else ignored, s_axis_w_tready = 0): weight memory
//             words in memory order, the whole memory once per pixel.
// Element encodings as in rtl/mvau (signed, unsigned, bipolar 1 = +1).
//
// The datapath is the MVAU's (rtl/mvau/mvau.sv with DEPTHWISE = 1, MW = K, MH = CHANNELS):
// each PE multiplies its own SIMD inputs (mvau_dot: XNOR-popcount, sign flips, Booth LUT
// multipliers up to 4-bit operands, DSPs beyond), accumulates the SF words of its channel
// group, and thresholds (threshold_compare) into the output FIFO; the weight memory modes are
// the MVAU's.
//
// Memory files ($readmemh, one hex word per line):
//   WEIGHT_FILE  CF*SF words of PE*SIMD*W_BITS bits; line cf*SF + sf; bits
//                [(pe*SIMD + s)*W_BITS +: W_BITS] = W[cf*PE + pe][sf*SIMD + s].
//   THRES_FILE   CF words of PE*N_THRES*THR_BITS bits; bits
//                [(pe*N_THRES + t)*THR_BITS +: THR_BITS] = T[cf*PE + pe][t] (signed).
// MEM_MODE: "internal_embedded" (ROM here), "internal_decoupled" (ROM in
// rtl/mvau/mvau_weight_streamer.sv, streamed), "external" (s_axis_w). RAM_STYLE (auto,
// block, distributed) applies to the weight memory.
//
// Schedule (rtl/mvau/mvau_core.sv): one tile (PE x SIMD products) per cycle while the
// streams keep up, so with m_axis always ready and no input gaps a stream of P pixels
// takes P * CF * SF cycles plus LATENCY (4, or 5 with thresholds) from the first input
// word to the last output word.
module vvau #(
    parameter int CHANNELS    = 4,
    parameter int K_H         = 3,
    parameter int K_W         = 3,
    parameter int PE          = 1,
    parameter int SIMD        = 1,
    parameter int IN_BITS     = 4,
    parameter int IN_SIGNED   = 0,
    parameter int IN_BIPOLAR  = 0,
    parameter int W_BITS      = 4,
    parameter int W_SIGNED    = 1,
    parameter int W_BIPOLAR   = 0,
    parameter int ACC_BITS    = 16,
    parameter int NO_ACT      = 1,
    parameter int N_THRES     = 1,
    parameter int THR_BITS    = 17,
    parameter int OUT_BITS    = 16,
    parameter int ACT_VAL     = 0,
    parameter int OUT_BIPOLAR = 0,
    parameter WEIGHT_FILE = "",
    parameter THRES_FILE = "",
    parameter MEM_MODE = "external",
    parameter RAM_STYLE = "auto",
    localparam int IN_W       = PE * SIMD * IN_BITS,
    localparam int W_W        = PE * SIMD * W_BITS,
    localparam int OUT_W      = PE * OUT_BITS,
    localparam int AXIL_BITS  = $clog2((K_H * K_W / SIMD) * (CHANNELS / PE) * (2 ** $clog2((W_W + 31) / 32)) * 4)
) (
    input  logic             clk,
    input  logic             rst_n,
    input  logic [ IN_W-1:0] s_axis_tdata,
    input  logic             s_axis_tvalid,
    output logic             s_axis_tready,
    input  logic [  W_W-1:0] s_axis_w_tdata,
    input  logic             s_axis_w_tvalid,
    output logic             s_axis_w_tready,
    output logic [OUT_W-1:0] m_axis_tdata,
    output logic             m_axis_tvalid,
    input  logic             m_axis_tready
);
  /* verilator lint_off WIDTH */
  localparam bit GOOD_STYLE = RAM_STYLE == "auto" || RAM_STYLE == "block" || RAM_STYLE == "distributed";
  /* verilator lint_on WIDTH */
  generate
    if (K_H < 1 || K_W < 1) begin : g_bad_kernel
      $error("vvau: K_H and K_W must be positive");
    end
    if (!GOOD_STYLE) begin : g_bad_style
      // No runtime-writable weights here, so no UltraRAM (it has no initial contents).
      $error("vvau: RAM_STYLE must be auto, block or distributed");
    end
  endgenerate

  // No runtime-writable weights: the MVAU's AXI-lite port stays idle.
  /* verilator lint_off UNUSEDSIGNAL */
  logic [1:0] axil_bresp, axil_rresp;
  logic [31:0] axil_rdata;
  logic axil_awready, axil_wready, axil_bvalid, axil_arready, axil_rvalid;
  /* verilator lint_on UNUSEDSIGNAL */

  mvau #(
      .MW(K_H * K_W),
      .MH(CHANNELS),
      .SIMD(SIMD),
      .PE(PE),
      .IN_BITS(IN_BITS),
      .IN_SIGNED(IN_SIGNED),
      .IN_BIPOLAR(IN_BIPOLAR),
      .W_BITS(W_BITS),
      .W_SIGNED(W_SIGNED),
      .W_BIPOLAR(W_BIPOLAR),
      .ACC_BITS(ACC_BITS),
      .NO_ACT(NO_ACT),
      .N_THRES(N_THRES),
      .THR_BITS(THR_BITS),
      .OUT_BITS(OUT_BITS),
      .ACT_VAL(ACT_VAL),
      .OUT_BIPOLAR(OUT_BIPOLAR),
      .WEIGHT_FILE(WEIGHT_FILE),
      .THRES_FILE(THRES_FILE),
      .MEM_MODE(MEM_MODE),
      .RAM_STYLE(RAM_STYLE),
      .RUNTIME_WRITEABLE(0),
      .DEPTHWISE(1)
  ) u_mvau (
      .clk(clk),
      .rst_n(rst_n),
      .s_axis_tdata(s_axis_tdata),
      .s_axis_tvalid(s_axis_tvalid),
      .s_axis_tready(s_axis_tready),
      .s_axis_w_tdata(s_axis_w_tdata),
      .s_axis_w_tvalid(s_axis_w_tvalid),
      .s_axis_w_tready(s_axis_w_tready),
      .m_axis_tdata(m_axis_tdata),
      .m_axis_tvalid(m_axis_tvalid),
      .m_axis_tready(m_axis_tready),
      .s_axilite_awaddr(AXIL_BITS'(0)),
      .s_axilite_awvalid(1'b0),
      .s_axilite_awready(axil_awready),
      .s_axilite_wdata(32'd0),
      .s_axilite_wstrb(4'd0),
      .s_axilite_wvalid(1'b0),
      .s_axilite_wready(axil_wready),
      .s_axilite_bresp(axil_bresp),
      .s_axilite_bvalid(axil_bvalid),
      .s_axilite_bready(1'b1),
      .s_axilite_araddr(AXIL_BITS'(0)),
      .s_axilite_arvalid(1'b0),
      .s_axilite_arready(axil_arready),
      .s_axilite_rdata(axil_rdata),
      .s_axilite_rresp(axil_rresp),
      .s_axilite_rvalid(axil_rvalid),
      .s_axilite_rready(1'b1)
  );
endmodule
