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
// Element encodings as in rtl/mvau (signed, unsigned, bipolar 1 = +1); the products are
// rtl/mvau/mvau_dot.sv's (XNOR-popcount, sign flips, Booth LUT multipliers up to 4-bit
// operands, DSP multipliers beyond); thresholds and output FIFO are rtl/mvau/mvau_output.sv.
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
// Schedule: one tile (PE x SIMD products) per cycle when the input word, the weight word
// (stream modes) and, for a tile starting a group, an output-buffer credit are there.
// Pipeline, for a tile issued in cycle t: t registers the input word and reads the
// weights; t+1 PE dot products over SIMD lanes (mvau_dot), registered; t+2 accumulate (on
// the group's last tile read the thresholds); t+3 NO_ACT: push, else compare; t+4 push.
// The word is on m_axis a cycle after the push (axis_fifo_srl), so with m_axis always ready
// and no input gaps a stream of P pixels takes P * CF * SF cycles plus LATENCY (4, or 5
// with thresholds) from the first input word to the last output word. Back-pressure never
// stalls the pipeline: a group starts only while fewer than OBUF_DEPTH results are in
// flight or waiting, OBUF_DEPTH = 1 + ceil(LATENCY / SF) (full rate with a ready consumer).
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
    localparam int OUT_W      = PE * OUT_BITS
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
  localparam int K = K_H * K_W;
  localparam int CF = CHANNELS / PE;
  localparam int SF = K / SIMD;
  localparam int WDEPTH = CF * SF;
  localparam int SFW = (SF > 1) ? $clog2(SF) : 1;
  localparam int CFW = (CF > 1) ? $clog2(CF) : 1;
  localparam int WAW = (WDEPTH > 1) ? $clog2(WDEPTH) : 1;
  // Exact width of one PE's SIMD-lane sum, capped at the accumulator (modular, exact
  // whenever the final sum fits).
  localparam int PROD_BITS = (IN_BIPOLAR != 0 && W_BIPOLAR != 0) ? 2 :
                             (W_BIPOLAR != 0) ? IN_BITS + 1 :
                             (IN_BIPOLAR != 0) ? W_BITS + 1 : IN_BITS + W_BITS + 1;
  localparam int DOT_EXACT = PROD_BITS + $clog2(SIMD);
  localparam int DOT_BITS = (DOT_EXACT < ACC_BITS) ? DOT_EXACT : ACC_BITS;
  localparam int LATENCY = (NO_ACT != 0) ? 4 : 5;
  localparam int OBUF_DEPTH = 1 + (LATENCY + SF - 1) / SF;
  localparam int CRW = $clog2(OBUF_DEPTH + 1);

  /* verilator lint_off WIDTH */
  localparam bit EMBEDDED = MEM_MODE == "internal_embedded";
  localparam bit DECOUPLED = MEM_MODE == "internal_decoupled";
  localparam bit EXTERNAL = MEM_MODE == "external";
  localparam bit GOOD_STYLE = RAM_STYLE == "auto" || RAM_STYLE == "block" || RAM_STYLE == "distributed";
  /* verilator lint_on WIDTH */

  generate
    if (CHANNELS < 1 || K_H < 1 || K_W < 1 || PE < 1 || SIMD < 1) begin : g_bad_shape
      $error("vvau: CHANNELS, K_H, K_W, PE and SIMD must be positive");
    end
    if (CHANNELS % PE != 0 || K % SIMD != 0) begin : g_bad_fold
      $error("vvau: PE must divide CHANNELS and SIMD must divide K_H*K_W");
    end
    if ((IN_BIPOLAR != 0 && IN_BITS != 1) || (W_BIPOLAR != 0 && W_BITS != 1)) begin : g_bad_bipolar
      $error("vvau: a bipolar operand has 1 bit");
    end
    if (NO_ACT != 0 && OUT_BITS != ACC_BITS) begin : g_bad_no_act
      $error("vvau: NO_ACT = 1 outputs the accumulator: OUT_BITS must equal ACC_BITS");
    end
    if (NO_ACT == 0 && (THRES_FILE == "" || N_THRES < 1)) begin : g_bad_thres
      $error("vvau: thresholds (NO_ACT = 0) need THRES_FILE and N_THRES >= 1");
    end
    if (NO_ACT == 0 && OUT_BIPOLAR != 0 && (OUT_BITS != 1 || N_THRES != 1 || ACT_VAL != 0))
    begin : g_bad_out_bipolar
      $error("vvau: OUT_BIPOLAR needs OUT_BITS = 1, N_THRES = 1 and ACT_VAL = 0");
    end
    if (!(EMBEDDED || DECOUPLED || EXTERNAL)) begin : g_bad_mode
      $error("vvau: MEM_MODE must be internal_embedded, internal_decoupled or external");
    end
    if (!EXTERNAL && WEIGHT_FILE == "") begin : g_no_weight_file
      $error("vvau: MEM_MODE internal_* needs WEIGHT_FILE");
    end
    if (!GOOD_STYLE) begin : g_bad_style
      $error("vvau: RAM_STYLE must be auto, block or distributed");
    end
  endgenerate

  // --- weight source: embedded ROM (read at issue) or a stream (registered at issue) ---------
  logic [W_W-1:0] w_word;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [W_W-1:0] ws_tdata;  // unused with the embedded ROM
  /* verilator lint_on UNUSEDSIGNAL */
  logic ws_tvalid, ws_tready;

  // --- issue ------------------------------------------------------------------------------
  logic run_q;  // low in reset: no handshakes then
  logic [SFW-1:0] sf;
  logic [CFW-1:0] cf;
  logic [WAW-1:0] waddr;  // cf * SF + sf
  logic [CRW-1:0] credits_used;

  wire  w_ok = EMBEDDED || ws_tvalid;
  wire  cr_ok = (sf != '0) || (credits_used < CRW'(OBUF_DEPTH));
  wire  issue = run_q && s_axis_tvalid && w_ok && cr_ok;
  wire  last_sf = sf == SFW'(SF - 1);
  wire  pop = m_axis_tvalid && m_axis_tready;

  assign s_axis_tready = run_q && w_ok && cr_ok;
  assign ws_tready = !EMBEDDED && run_q && s_axis_tvalid && cr_ok;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      run_q <= 1'b0;
      sf <= '0;
      cf <= '0;
      waddr <= '0;
      credits_used <= '0;
    end else begin
      run_q <= 1'b1;
      if (issue) begin
        sf <= last_sf ? '0 : sf + 1'b1;
        if (last_sf) cf <= (cf == CFW'(CF - 1)) ? '0 : cf + 1'b1;
        waddr <= (waddr == WAW'(WDEPTH - 1)) ? '0 : waddr + 1'b1;
      end
      credits_used <= credits_used + CRW'(issue && sf == '0) - CRW'(pop);
    end
  end

  generate
    if (EMBEDDED) begin : g_rom
      ram_sdp #(
          .WIDTH(W_W),
          .DEPTH(WDEPTH),
          .INIT_FILE(WEIGHT_FILE),
          .RAM_STYLE(RAM_STYLE),
          .WRITEABLE(0)
      ) u_wmem (
          .clk(clk),
          .rd_en(issue),
          .rd_addr(waddr),
          .rd_data(w_word),
          .wr_en(1'b0),
          .wr_addr('0),
          .wr_data('0)
      );
      assign ws_tdata  = '0;
      assign ws_tvalid = 1'b0;
    end else begin : g_w_stream
      always_ff @(posedge clk) if (issue) w_word <= ws_tdata;
      if (DECOUPLED) begin : g_streamer
        /* verilator lint_off UNUSEDSIGNAL */
        logic [1:0] axil_b, axil_r;
        logic [31:0] axil_rdata;
        logic [4:0] axil_flags;
        /* verilator lint_on UNUSEDSIGNAL */
        mvau_weight_streamer #(
            .WIDTH(W_W),
            .DEPTH(WDEPTH),
            .INIT_FILE(WEIGHT_FILE),
            .RAM_STYLE(RAM_STYLE),
            .RUNTIME_WRITEABLE(0)
        ) u_weights (
            .clk(clk),
            .rst_n(rst_n),
            .m_axis_tdata(ws_tdata),
            .m_axis_tvalid(ws_tvalid),
            .m_axis_tready(ws_tready),
            .s_axilite_awaddr('0),
            .s_axilite_awvalid(1'b0),
            .s_axilite_awready(axil_flags[0]),
            .s_axilite_wdata('0),
            .s_axilite_wstrb('0),
            .s_axilite_wvalid(1'b0),
            .s_axilite_wready(axil_flags[1]),
            .s_axilite_bresp(axil_b),
            .s_axilite_bvalid(axil_flags[2]),
            .s_axilite_bready(1'b1),
            .s_axilite_araddr('0),
            .s_axilite_arvalid(1'b0),
            .s_axilite_arready(axil_flags[3]),
            .s_axilite_rdata(axil_rdata),
            .s_axilite_rresp(axil_r),
            .s_axilite_rvalid(axil_flags[4]),
            .s_axilite_rready(1'b1)
        );
      end else begin : g_external
        assign ws_tdata  = s_axis_w_tdata;
        assign ws_tvalid = s_axis_w_tvalid;
      end
    end
  endgenerate
  assign s_axis_w_tready = EXTERNAL && ws_tready;

  /* verilator lint_off UNUSEDSIGNAL */
  wire unused_ext = ^{s_axis_w_tdata, s_axis_w_tvalid};  // used in "external" mode only
  /* verilator lint_on UNUSEDSIGNAL */

  // --- stage 1: operands; stage 2: dot products; stage 3: accumulate -------------------------
  logic v1, first1, last1, v2, first2, last2, v3;
  logic [CFW-1:0] cf1, cf2;
  logic [IN_W-1:0] x_word;
  logic [PE*ACC_BITS-1:0] acc;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      v1 <= 1'b0;
      v2 <= 1'b0;
      v3 <= 1'b0;
    end else begin
      v1 <= issue;
      v2 <= v1;
      v3 <= v2 && last2;
    end
    if (issue) begin
      first1 <= sf == '0;
      last1  <= last_sf;
      cf1    <= cf;
      x_word <= s_axis_tdata;
    end
    first2 <= first1;
    last2  <= last1;
    cf2    <= cf1;
  end

  for (genvar p = 0; p < PE; p++) begin : g_pe
    // This PE's SIMD lanes: input elements s*PE + p, weights pe*SIMD + s.
    logic [SIMD*IN_BITS-1:0] xs;
    for (genvar s = 0; s < SIMD; s++) begin : g_lane
      assign xs[s*IN_BITS+:IN_BITS] = x_word[(s*PE+p)*IN_BITS+:IN_BITS];
    end
    logic [DOT_BITS-1:0] dot, dot_q;
    logic [ACC_BITS-1:0] acc_q;
    mvau_dot #(
        .SIMD(SIMD),
        .IN_BITS(IN_BITS),
        .IN_SIGNED(IN_SIGNED),
        .IN_BIPOLAR(IN_BIPOLAR),
        .W_BITS(W_BITS),
        .W_SIGNED(W_SIGNED),
        .W_BIPOLAR(W_BIPOLAR),
        .DOT_BITS(DOT_BITS)
    ) u_dot (
        .x  (xs),
        .w  (w_word[p*SIMD*W_BITS+:SIMD*W_BITS]),
        .dot(dot)
    );
    always_ff @(posedge clk) begin
      dot_q <= dot;
      if (v2) acc_q <= (first2 ? '0 : acc_q) + ACC_BITS'($signed(dot_q));
    end
    assign acc[p*ACC_BITS+:ACC_BITS] = acc_q;
  end

  // --- activation and output buffer (mvau_output.sv) ------------------------------------
  mvau_output #(
      .PE(PE),
      .ACC_BITS(ACC_BITS),
      .NO_ACT(NO_ACT),
      .N_THRES(N_THRES),
      .THR_BITS(THR_BITS),
      .OUT_BITS(OUT_BITS),
      .ACT_VAL(ACT_VAL),
      .ROWS(CF),
      .OBUF_DEPTH(OBUF_DEPTH),
      .THRES_FILE(THRES_FILE)
  ) u_out (
      .clk(clk),
      .rst_n(rst_n),
      .thr_rd(v2 && last2),
      .thr_addr(cf2),
      .acc_valid(v3),
      .acc(acc),
      .m_axis_tdata(m_axis_tdata),
      .m_axis_tvalid(m_axis_tvalid),
      .m_axis_tready(m_axis_tready)
  );
endmodule
