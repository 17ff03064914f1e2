// MVAU: matrix-vector-activation unit. For each input vector x (MW elements):
//   acc[j] = sum_i x[i] * W[i][j]  (j < MH), exact in ACC_BITS;
//   NO_ACT = 1: out[j] = acc[j] (OUT_BITS = ACC_BITS, signed);
//   else:       out[j] = ACT_VAL + #{t : acc[j] >= T[j][t]} over N_THRES ascending
//               thresholds (OUT_BIPOLAR = 1: one threshold, 1 bit, 1 = +1).
// Folding: SF = MW / SIMD input words per vector, NF = MH / PE output words per vector.
//
// Streams (element e of a word at bits [e*BITS +: BITS]):
//   s_axis    SIMD*IN_BITS bits; per vector SF words, word sf = x[sf*SIMD +: SIMD]. Each
//             vector is read once and buffered (SF words) for the NF output groups.
//   m_axis    PE*OUT_BITS bits; per vector NF words, word nf = out[nf*PE +: PE].
//   s_axis_w  MEM_MODE "external" only (else ignored, s_axis_w_tready = 0): weight
//             memory words in memory order, the whole memory once per input vector.
// Element encodings: signed = two's complement, unsigned = plain, bipolar = 1 bit
// (1 = +1, 0 = -1); IN_*/W_* select them for activations and weights. Bipolar x bipolar
// is XNOR + popcount; bipolar x integer is +/- the integer.
//
// Memory files ($readmemh: one hex word per line, no address markers):
//   WEIGHT_FILE  SF*NF words of PE*SIMD*W_BITS bits; line nf*SF + sf; bits
//                [(pe*SIMD + s)*W_BITS +: W_BITS] = W[sf*SIMD + s][nf*PE + pe].
//   THRES_FILE   NF words of PE*N_THRES*THR_BITS bits; bits
//                [(pe*N_THRES + t)*THR_BITS +: THR_BITS] = T[nf*PE + pe][t] (signed).
// The paths are used as given: Verilator opens them at simulation start relative to the
// simulator's working directory; Yosys relative to its working directory, else to the
// directory of rtl/common/ram_sdp.sv (the memory primitive, which holds the $readmemh).
//
// The defaults (external weights, no activation) need no files: Yosys elaborates every
// module with its defaults while reading it.
// MEM_MODE: "internal_embedded" (ROM in the core), "internal_decoupled" (ROM in
// mvau_weight_streamer feeding the core's weight stream), "external" (s_axis_w).
// RAM_STYLE ("auto", "block", "distributed", "ultra") applies to the weight memory; "ultra"
// needs RUNTIME_WRITEABLE = 1 (URAM has no initial contents).
//
// Runtime-writable weights (RUNTIME_WRITEABLE = 1, MEM_MODE "internal_decoupled" only):
// the weight memory becomes a RAM written through the AXI4-lite slave s_axilite_*
// (32-bit data, AXIL_ADDR_BITS address bits; address map, write order and responses in
// rtl/common/axil_mem_write.sv, for words of W_W bits and depth SF*NF in the WEIGHT_FILE
// layout: chunk j of word i at byte address (i * STRIDE + j) * 4). WEIGHT_FILE is then
// optional and gives the initial contents, except with RAM_STYLE "ultra", which ignores it:
// all SF*NF words must be written before the first vector. Words written while the unit
// is idle are used by the next vector; a write while it streams is allowed, but the
// vector in progress may use old or new words (mvau_weight_streamer.sv). Thresholds stay
// in THRES_FILE. Reads are answered SLVERR. The s_axilite_* ports exist in every
// configuration; without RUNTIME_WRITEABLE they are ignored and their outputs are 0 (tie
// awvalid, wvalid, arvalid to 0).
//
// DEPTHWISE = 1 (the depthwise VVAU, rtl/vvau/vvau.sv; MW = window positions, MH =
// channels): PE output channels each get their own SIMD inputs, so s_axis carries
// PE*SIMD*IN_BITS bits and every tile (nf, sf) takes one word, element s*PE + pe =
// x of channel nf*PE + pe at window position sf*SIMD + s; no input buffer.
//
// Throughput and latency: one weight tile (SIMD x PE) per cycle while the streams keep
// up, so a frame of NUM_VECTORS vectors takes NUM_VECTORS * SF * NF cycles plus LATENCY:
// with m_axis always ready and no input gaps, the last output word is taken
// NUM_VECTORS * SF * NF + LATENCY - 1 cycles after the first input word, where
// LATENCY = 5 with thresholds, 4 with NO_ACT = 1 (cycles from the issue of a group's last
// tile to its output word; the same in every MEM_MODE). NUM_VECTORS only documents the
// frame: the unit processes vectors back to back for as long as they come.
module mvau #(
    parameter int MW          = 4,
    parameter int MH          = 4,
    parameter int SIMD        = 1,
    parameter int PE          = 1,
    parameter int NUM_VECTORS = 1,
    parameter int IN_BITS     = 1,
    parameter int IN_SIGNED   = 0,
    parameter int IN_BIPOLAR  = 0,
    parameter int W_BITS      = 1,
    parameter int W_SIGNED    = 0,
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
    parameter int RUNTIME_WRITEABLE = 0,
    parameter int DEPTHWISE   = 0,  // 1: the VVAU's input stream (see above)
    localparam int IN_W       = (DEPTHWISE != 0 ? PE : 1) * SIMD * IN_BITS,
    localparam int W_W        = PE * SIMD * W_BITS,
    localparam int OUT_W      = PE * OUT_BITS,
    // AXI-lite address bits of the weight memory (SF*NF words of W_W bits):
    // clog2(SF*NF * STRIDE * 4), STRIDE = ceil(W_W / 32) rounded up to a power of two.
    localparam int AXIL_ADDR_BITS = $clog2((MW / SIMD) * (MH / PE) * (2 ** $clog2((W_W + 31) / 32)) * 4)
) (
    input  logic                      clk,
    input  logic                      rst_n,
    input  logic [          IN_W-1:0] s_axis_tdata,
    input  logic                      s_axis_tvalid,
    output logic                      s_axis_tready,
    input  logic [           W_W-1:0] s_axis_w_tdata,
    input  logic                      s_axis_w_tvalid,
    output logic                      s_axis_w_tready,
    output logic [         OUT_W-1:0] m_axis_tdata,
    output logic                      m_axis_tvalid,
    input  logic                      m_axis_tready,
    input  logic [AXIL_ADDR_BITS-1:0] s_axilite_awaddr,
    input  logic                      s_axilite_awvalid,
    output logic                      s_axilite_awready,
    input  logic [              31:0] s_axilite_wdata,
    input  logic [               3:0] s_axilite_wstrb,
    input  logic                      s_axilite_wvalid,
    output logic                      s_axilite_wready,
    output logic [               1:0] s_axilite_bresp,
    output logic                      s_axilite_bvalid,
    input  logic                      s_axilite_bready,
    input  logic [AXIL_ADDR_BITS-1:0] s_axilite_araddr,
    input  logic                      s_axilite_arvalid,
    output logic                      s_axilite_arready,
    output logic [              31:0] s_axilite_rdata,
    output logic [               1:0] s_axilite_rresp,
    output logic                      s_axilite_rvalid,
    input  logic                      s_axilite_rready
);
  localparam int SF = MW / SIMD;
  localparam int NF = MH / PE;

  /* verilator lint_off WIDTH */
  localparam bit EMBEDDED = MEM_MODE == "internal_embedded";
  localparam bit DECOUPLED = MEM_MODE == "internal_decoupled";
  localparam bit EXTERNAL = MEM_MODE == "external";
  localparam bit ULTRA = RAM_STYLE == "ultra";
  localparam bit GOOD_STYLE = RAM_STYLE == "auto" || RAM_STYLE == "block" ||
                              RAM_STYLE == "distributed" || RAM_STYLE == "ultra";
  /* verilator lint_on WIDTH */

  // --- elaboration-time checks --------------------------------------------------------------
  generate
    if (MW < 1 || MH < 1 || SIMD < 1 || PE < 1 || NUM_VECTORS < 1) begin : g_bad_shape
      $error("mvau: MW, MH, SIMD, PE and NUM_VECTORS must be positive");
    end
    if (MW % SIMD != 0 || MH % PE != 0) begin : g_bad_fold
      $error("mvau: SIMD must divide MW and PE must divide MH");
    end
    if (IN_BIPOLAR != 0 && IN_BITS != 1) begin : g_bad_in_bipolar
      $error("mvau: IN_BIPOLAR needs IN_BITS = 1");
    end
    if (W_BIPOLAR != 0 && W_BITS != 1) begin : g_bad_w_bipolar
      $error("mvau: W_BIPOLAR needs W_BITS = 1");
    end
    if (NO_ACT != 0 && OUT_BITS != ACC_BITS) begin : g_bad_no_act
      $error("mvau: NO_ACT = 1 outputs the accumulator: OUT_BITS must equal ACC_BITS");
    end
    if (NO_ACT == 0 && (N_THRES < 1 || THR_BITS < 1)) begin : g_bad_thres
      $error("mvau: thresholds need N_THRES >= 1 and THR_BITS >= 1");
    end
    if (NO_ACT == 0 && OUT_BIPOLAR != 0 && (OUT_BITS != 1 || N_THRES != 1 || ACT_VAL != 0))
    begin : g_bad_out_bipolar
      $error("mvau: OUT_BIPOLAR needs OUT_BITS = 1, N_THRES = 1 and ACT_VAL = 0");
    end
    if (!(EMBEDDED || DECOUPLED || EXTERNAL)) begin : g_bad_mode
      $error("mvau: MEM_MODE must be internal_embedded, internal_decoupled or external");
    end
    if ((EMBEDDED || DECOUPLED) && WEIGHT_FILE == "" && RUNTIME_WRITEABLE == 0) begin : g_no_weight_file
      $error("mvau: MEM_MODE internal_* needs WEIGHT_FILE (or RUNTIME_WRITEABLE = 1)");
    end
    if (RUNTIME_WRITEABLE != 0 && !DECOUPLED) begin : g_writeable_mode
      $error("mvau: RUNTIME_WRITEABLE needs MEM_MODE internal_decoupled");
    end
    if (NO_ACT == 0 && THRES_FILE == "") begin : g_no_thres_file
      $error("mvau: thresholds (NO_ACT = 0) need THRES_FILE");
    end
    if (ULTRA && (EMBEDDED || DECOUPLED) && RUNTIME_WRITEABLE == 0) begin : g_ultra_rom
      // UltraRAM powers up as zeros (no INIT contents; Yosys' URAM model says the same).
      $error("mvau: RAM_STYLE ultra cannot hold a weight file; use block or distributed, or RUNTIME_WRITEABLE = 1");
    end
    if (!GOOD_STYLE) begin : g_bad_style
      $error("mvau: RAM_STYLE must be auto, block, distributed or ultra");
    end
  endgenerate

  // --- memory mode ----------------------------------------------------------------------------
  logic [W_W-1:0] w_tdata;
  logic w_tvalid, w_tready;

  mvau_core #(
      .MW(MW),
      .MH(MH),
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
      .W_FROM_STREAM(EMBEDDED ? 0 : 1),
      .DEPTHWISE(DEPTHWISE),
      .WEIGHT_FILE(WEIGHT_FILE),
      .THRES_FILE(THRES_FILE),
      .RAM_STYLE(RAM_STYLE)
  ) u_core (
      .clk(clk),
      .rst_n(rst_n),
      .s_axis_tdata(s_axis_tdata),
      .s_axis_tvalid(s_axis_tvalid),
      .s_axis_tready(s_axis_tready),
      .s_axis_w_tdata(w_tdata),
      .s_axis_w_tvalid(w_tvalid),
      .s_axis_w_tready(w_tready),
      .m_axis_tdata(m_axis_tdata),
      .m_axis_tvalid(m_axis_tvalid),
      .m_axis_tready(m_axis_tready)
  );

  generate
    if (DECOUPLED) begin : g_decoupled
      mvau_weight_streamer #(
          .WIDTH(W_W),
          .DEPTH(SF * NF),
          .INIT_FILE(WEIGHT_FILE),
          .RAM_STYLE(RAM_STYLE),
          .RUNTIME_WRITEABLE(RUNTIME_WRITEABLE)
      ) u_weights (
          .clk(clk),
          .rst_n(rst_n),
          .m_axis_tdata(w_tdata),
          .m_axis_tvalid(w_tvalid),
          .m_axis_tready(w_tready),
          .s_axilite_awaddr(s_axilite_awaddr),
          .s_axilite_awvalid(s_axilite_awvalid),
          .s_axilite_awready(s_axilite_awready),
          .s_axilite_wdata(s_axilite_wdata),
          .s_axilite_wstrb(s_axilite_wstrb),
          .s_axilite_wvalid(s_axilite_wvalid),
          .s_axilite_wready(s_axilite_wready),
          .s_axilite_bresp(s_axilite_bresp),
          .s_axilite_bvalid(s_axilite_bvalid),
          .s_axilite_bready(s_axilite_bready),
          .s_axilite_araddr(s_axilite_araddr),
          .s_axilite_arvalid(s_axilite_arvalid),
          .s_axilite_arready(s_axilite_arready),
          .s_axilite_rdata(s_axilite_rdata),
          .s_axilite_rresp(s_axilite_rresp),
          .s_axilite_rvalid(s_axilite_rvalid),
          .s_axilite_rready(s_axilite_rready)
      );
    end else begin : g_no_axilite
      // No writable memory: the AXI-lite port accepts nothing.
      assign {s_axilite_awready, s_axilite_wready, s_axilite_bvalid, s_axilite_arready, s_axilite_rvalid} = '0;
      assign {s_axilite_bresp, s_axilite_rdata, s_axilite_rresp} = '0;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_axilite = ^{s_axilite_awaddr, s_axilite_awvalid, s_axilite_wdata, s_axilite_wstrb,
                              s_axilite_wvalid, s_axilite_bready, s_axilite_araddr, s_axilite_arvalid,
                              s_axilite_rready};
      /* verilator lint_on UNUSEDSIGNAL */
    end
    if (EXTERNAL) begin : g_external
      assign w_tdata  = s_axis_w_tdata;
      assign w_tvalid = s_axis_w_tvalid;
    end else if (EMBEDDED) begin : g_embedded
      assign w_tdata  = '0;
      assign w_tvalid = 1'b0;
    end
  endgenerate
  assign s_axis_w_tready = EXTERNAL && w_tready;

  /* verilator lint_off UNUSEDSIGNAL */
  wire unused_ext = ^{s_axis_w_tdata, s_axis_w_tvalid};  // used in "external" mode only
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
