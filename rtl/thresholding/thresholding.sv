// Multi-threshold activation, PE channels per stream word, one word per cycle:
//   out[c] = ACT_VAL + #{t : x[c] >= T[c][t]}        (two's complement, OUT_BITS wide)
//   out[c] = (x[c] >= T[c][0])                       (OUT_BIPOLAR: 1 = +1, 0 = -1)
// The count is over all N_THRES thresholds, so it does not rely on a row being sorted.
//
// Streams (channels last, element i of a word at bits [i*BITS +: BITS]):
//   s_axis_tdata: PE inputs of IN_BITS (two's complement if IN_SIGNED), channels
//                 cf*PE .. cf*PE+PE-1 for channel fold cf = 0 .. C/PE-1, then the next pixel.
//   m_axis_tdata: PE outputs of OUT_BITS, same order.
// A BIPOLAR input (1 bit, 1 = +1, 0 = -1) is compared as its code (IN_BITS = 1,
// IN_SIGNED = 0), so its thresholds must be given in the code domain: x >= T holds for
// the value 2c-1 exactly when the code c >= ceil((T+1)/2).
// NUM_VECTORS (pixels per frame) does not change the hardware: the channel-fold counter
// wraps every C/PE words. It is a parameter so the cycle estimate can be read off the
// instance: NUM_VECTORS*C/PE + 3 cycles per frame without stalls (N back-to-back words:
// N + 3 from the first input handshake to the last output handshake).
//
// Latency: 3 cycles from an input handshake to the output handshake of its result (one
// for the threshold read, one for the comparisons, one for the counts). All stages move
// together when the output register is free or being emptied, so s_axis_tready follows
// m_axis_tready combinationally (put an axis_skid_buffer behind if that path matters).
//
// Threshold memory, read with $readmemh(THRES_FILE) at initialization (one hex word per
// line; this is what qnn2fpga.packing.threshold_words writes):
//   depth C/PE (1 if SHARED), word width PE*N_THRES*THR_BITS,
//   bits [((pe*N_THRES)+t)*THR_BITS +: THR_BITS] of word cf = T[cf*PE+pe][t] (signed).
//   SHARED: one row for every channel, taken from lane 0 (the low N_THRES*THR_BITS bits)
//   of the single word; a writer may replicate the row into all PE lanes or write lane 0
//   only. THRES_FILE must be set (left empty, the thresholds are undefined). A relative
//   name resolves against the working directory (Yosys then tries the directory of this
//   source file); Yosys reads the file while elaborating, so in Bazel it must be an input
//   of the synthesis action (memory_files.bzl).
//
// Memory primitive (RAM_STYLE "auto"; the other values force a style), by memory depth
// D = C/PE, in the manner of FINN's depth triggers:
//   D >= DEPTH_TRIGGER_URAM > 0  -> "ultra" (URAM)
//   D >= DEPTH_TRIGGER_BRAM      -> "block" (BRAM)
//   otherwise                    -> "distributed" (LUTs: a read-only LUTRAM is logic)
// URAM has no power-on contents (UltraScale+), so thresholds from a file cannot live
// there: "ultra" (forced or picked) stops elaboration with an error unless
// RUNTIME_WRITEABLE = 1; DEPTH_TRIGGER_URAM = 0 (the default) never picks it. A
// single-word memory (SHARED, or C == PE) becomes constants, or with RUNTIME_WRITEABLE a
// one-word register; RAM_STYLE does not apply to it.
//
// Runtime-writable thresholds (RUNTIME_WRITEABLE = 1): the memory is a RAM written through
// the AXI4-lite slave s_axilite_* (32-bit data, AXIL_ADDR_BITS address bits; address map,
// write order and responses in rtl/common/axil_mem_write.sv, for the words above: chunk j
// of word cf at byte address (cf * STRIDE + j) * 4). THRES_FILE is optional and gives the
// initial contents, except in URAM ("ultra"), which ignores it: every word must then be
// written before the first input. The memory is read when a word enters stage 1, so a
// write takes effect for the words that enter after it; writing while words stream is
// allowed, but the frame in progress may then see old or new thresholds. Reads are
// answered SLVERR. Latency and throughput do not change. The s_axilite_* ports exist in
// every configuration; without RUNTIME_WRITEABLE they are ignored and their outputs are 0
// (tie awvalid, wvalid, arvalid to 0).
module thresholding #(
    parameter int NUM_CHANNELS       = 4,
    parameter int PE                 = 1,
    /* verilator lint_off UNUSEDPARAM */
    parameter int NUM_VECTORS        = 1,  // documentation only (cycle estimate)
    /* verilator lint_on UNUSEDPARAM */
    parameter int IN_BITS            = 8,
    parameter int IN_SIGNED          = 1,
    parameter int N_THRES            = 3,
    parameter int THR_BITS           = 9,
    parameter int OUT_BITS           = 2,
    parameter int ACT_VAL            = 0,
    parameter int OUT_BIPOLAR        = 0,
    parameter int SHARED             = 0,
    parameter THRES_FILE         = "",
    parameter RAM_STYLE          = "auto",
    parameter int DEPTH_TRIGGER_BRAM = 64,
    parameter int DEPTH_TRIGGER_URAM = 0,
    parameter int RUNTIME_WRITEABLE  = 0,
    // derived; do not set: AXI-lite address bits of the threshold memory,
    // clog2(depth * STRIDE * 4), STRIDE = ceil(word width / 32) rounded up to a power of 2
    parameter int AXIL_ADDR_BITS     = $clog2(((SHARED != 0) ? 1 : NUM_CHANNELS / PE) *
                                              (2 ** $clog2((PE * N_THRES * THR_BITS + 31) / 32)) * 4)
) (
    input  logic                      clk,
    input  logic                      rst_n,
    input  logic [   PE*IN_BITS-1:0]  s_axis_tdata,
    input  logic                      s_axis_tvalid,
    output logic                      s_axis_tready,
    output logic [  PE*OUT_BITS-1:0]  m_axis_tdata,
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
  localparam int CF = NUM_CHANNELS / PE;  // channel folds: words per pixel
  localparam int DEPTH = (SHARED != 0) ? 1 : CF;  // threshold memory words
  localparam int TW = PE * N_THRES * THR_BITS;  // threshold memory word width
  localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
  // Comparison width: both operands sign-extended, unsigned inputs get a zero sign bit.
  localparam int CW = ((IN_BITS > THR_BITS) ? IN_BITS : THR_BITS) + 1;
  localparam int NW = $clog2(N_THRES + 1);  // width of a threshold count

  generate
    if (NUM_CHANNELS < 1 || PE < 1 || NUM_CHANNELS % PE != 0) begin : g_bad_fold
      $error("thresholding: PE must divide NUM_CHANNELS");
    end
    if (N_THRES < 1 || THR_BITS < 1 || IN_BITS < 1 || OUT_BITS < 1) begin : g_bad_width
      $error("thresholding: N_THRES, THR_BITS, IN_BITS and OUT_BITS must be positive");
    end
    if (OUT_BIPOLAR != 0 && (OUT_BITS != 1 || N_THRES != 1)) begin : g_bad_bipolar
      $error("thresholding: a BIPOLAR output needs OUT_BITS = 1 and N_THRES = 1");
    end
    // Every result ACT_VAL .. ACT_VAL+N_THRES must fit OUT_BITS, read as signed or unsigned.
    if (OUT_BIPOLAR == 0 && (ACT_VAL < -(2 ** (OUT_BITS - 1)) || ACT_VAL + N_THRES > 2 ** OUT_BITS - 1))
    begin : g_bad_range
      $error("thresholding: ACT_VAL .. ACT_VAL+N_THRES does not fit OUT_BITS");
    end
  endgenerate

  // ---- flow control: one enable for the whole pipeline --------------------------------
  logic v1, v2, v3;  // stage valids: threshold read, comparisons, counts (= output)
  wire  ce = !v3 || m_axis_tready;
  assign s_axis_tready = ce;
  assign m_axis_tvalid = v3;

  // ---- stage 1: read the thresholds of channel fold cf, register the input ---------------
  logic [AW-1:0] cf;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [TW-1:0] thr;  // thresholds of the word in stage 1 (SHARED: lane 0 only is read)
  /* verilator lint_on UNUSEDSIGNAL */
  logic [PE*IN_BITS-1:0] x1;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      cf <= '0;
      v1 <= 1'b0;
      v2 <= 1'b0;
      v3 <= 1'b0;
    end else if (ce) begin
      v1 <= s_axis_tvalid;
      v2 <= v1;
      v3 <= v2;
      if (s_axis_tvalid && DEPTH > 1) cf <= (cf == AW'(DEPTH - 1)) ? '0 : cf + 1'b1;
    end
  end
  always_ff @(posedge clk) if (ce) x1 <= s_axis_tdata;

  // The thresholds are a ROM, or with RUNTIME_WRITEABLE a RAM whose write port comes from
  // axil_mem_write: one branch per style, since synthesis attributes must be literal
  // constants. Vivado reads rom_style; Yosys 0.23 reads ram_style first and maps a ROM to
  // LUTs only as "logic" (its LUTRAM needs a write port). The write port is a process of
  // its own, present only when writable, so a ROM stays a ROM for synthesis.
  localparam bit WRITEABLE = RUNTIME_WRITEABLE != 0;
  logic wr_en;
  logic [AW-1:0] wr_addr;
  logic [TW-1:0] wr_data;
  /* verilator lint_off WIDTH */
  // Tools elaborate the defaults before parameters are set: no file, no $readmemh.
  localparam bit HAS_FILE = THRES_FILE != "";
  localparam STYLE = (RAM_STYLE != "auto") ? RAM_STYLE :
                     (DEPTH_TRIGGER_URAM > 0 && DEPTH >= DEPTH_TRIGGER_URAM) ? "ultra" :
                     (DEPTH >= DEPTH_TRIGGER_BRAM) ? "block" : "distributed";
  generate
    if (RAM_STYLE != "auto" && RAM_STYLE != "block" && RAM_STYLE != "distributed" && RAM_STYLE != "ultra")
    begin : g_bad_style
      $error("thresholding: RAM_STYLE must be auto, block, distributed or ultra");
    end
    if (DEPTH == 1) begin : g_const
      logic [TW-1:0] mem[1];
      if (HAS_FILE) begin : g_init
        initial $readmemh(THRES_FILE, mem);
      end
      always_ff @(posedge clk) if (ce) thr <= mem[0];
      if (WRITEABLE) begin : g_write
        always_ff @(posedge clk) if (wr_en) mem[0] <= wr_data;
      end
    end else if (STYLE == "ultra" && !WRITEABLE) begin : g_ultra_rom
      $error("thresholding: URAM has no initial contents, so it cannot hold $readmemh thresholds; use RAM_STYLE block, DEPTH_TRIGGER_URAM = 0 or RUNTIME_WRITEABLE = 1");
    end else if (STYLE == "ultra") begin : g_ultra
      (* ram_style = "ultra" *) logic [TW-1:0] mem[DEPTH];
      always_ff @(posedge clk) if (ce) thr <= mem[cf];
      always_ff @(posedge clk) if (wr_en) mem[wr_addr] <= wr_data;
    end else if (STYLE == "block") begin : g_block
      (* ram_style = "block", rom_style = "block" *) logic [TW-1:0] mem[DEPTH];
      if (HAS_FILE) begin : g_init
        initial $readmemh(THRES_FILE, mem);
      end
      always_ff @(posedge clk) if (ce) thr <= mem[cf];
      if (WRITEABLE) begin : g_write
        always_ff @(posedge clk) if (wr_en) mem[wr_addr] <= wr_data;
      end
    end else if (WRITEABLE) begin : g_distributed_ram
      (* ram_style = "distributed" *) logic [TW-1:0] mem[DEPTH];
      if (HAS_FILE) begin : g_init
        initial $readmemh(THRES_FILE, mem);
      end
      always_ff @(posedge clk) if (ce) thr <= mem[cf];
      always_ff @(posedge clk) if (wr_en) mem[wr_addr] <= wr_data;
    end else begin : g_distributed
      (* ram_style = "logic", rom_style = "distributed" *) logic [TW-1:0] mem[DEPTH];
      if (HAS_FILE) begin : g_init
        initial $readmemh(THRES_FILE, mem);
      end
      always_ff @(posedge clk) if (ce) thr <= mem[cf];
    end
  endgenerate
  /* verilator lint_on WIDTH */

  generate
    if (WRITEABLE) begin : g_axilite
      axil_mem_write #(
          .WIDTH(TW),
          .DEPTH(DEPTH)
      ) u_axilite (
          .clk(clk),
          .rst_n(rst_n),
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
          .s_axilite_rready(s_axilite_rready),
          .wr_en(wr_en),
          .wr_addr(wr_addr),
          .wr_data(wr_data)
      );
    end else begin : g_no_axilite
      assign wr_en = 1'b0;
      assign wr_addr = '0;
      assign wr_data = '0;
      assign s_axilite_awready = 1'b0;
      assign s_axilite_wready = 1'b0;
      assign s_axilite_bresp = 2'b00;
      assign s_axilite_bvalid = 1'b0;
      assign s_axilite_arready = 1'b0;
      assign s_axilite_rdata = '0;
      assign s_axilite_rresp = 2'b00;
      assign s_axilite_rvalid = 1'b0;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_axilite = ^{s_axilite_awaddr, s_axilite_awvalid, s_axilite_wdata, s_axilite_wstrb,
                              s_axilite_wvalid, s_axilite_bready, s_axilite_araddr, s_axilite_arvalid,
                              s_axilite_rready, wr_en, wr_addr, wr_data};
      /* verilator lint_on UNUSEDSIGNAL */
    end
    if (WRITEABLE && DEPTH == 1) begin : g_one_word
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_wr_addr = ^wr_addr;  // a single word
      /* verilator lint_on UNUSEDSIGNAL */
    end
  endgenerate

  // ---- stage 2: compare every input with its N_THRES thresholds --------------------------
  logic [PE*N_THRES-1:0] ge;  // bit pe*N_THRES + t: x[pe] >= T[pe][t]
  for (genvar p = 0; p < PE; p++) begin : g_cmp
    // SHARED: lane 0 holds the row of every channel.
    localparam int LANE = (SHARED != 0) ? 0 : p;
    wire [IN_BITS-1:0] xi = x1[p*IN_BITS+:IN_BITS];
    logic signed [CW-1:0] xe;
    if (IN_SIGNED != 0) begin : g_signed
      assign xe = CW'($signed(xi));
    end else begin : g_unsigned
      assign xe = $signed(CW'(xi));
    end
    for (genvar t = 0; t < N_THRES; t++) begin : g_thr
      wire signed [CW-1:0] te = CW'($signed(thr[(LANE*N_THRES+t)*THR_BITS+:THR_BITS]));
      always_ff @(posedge clk) if (ce) ge[p*N_THRES+t] <= (xe >= te);
    end
  end

  // ---- stage 3: count the thresholds passed, add ACT_VAL --------------------------------
  for (genvar p = 0; p < PE; p++) begin : g_out
    if (OUT_BIPOLAR != 0) begin : g_bipolar
      always_ff @(posedge clk) if (ce) m_axis_tdata[p] <= ge[p*N_THRES];
    end else begin : g_int
      localparam logic [OUT_BITS-1:0] BIAS = OUT_BITS'(ACT_VAL);
      logic [NW-1:0] n;
      always_comb begin
        n = '0;
        for (int t = 0; t < N_THRES; t++) n = n + NW'(ge[p*N_THRES+t]);
      end
      always_ff @(posedge clk) if (ce) m_axis_tdata[p*OUT_BITS+:OUT_BITS] <= BIAS + OUT_BITS'(n);
    end
  end
endmodule
