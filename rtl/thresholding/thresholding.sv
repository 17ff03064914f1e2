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
//   name resolves against the working directory (Yosys then tries the directory of
//   rtl/common/ram_sdp.sv, which holds the $readmemh); Yosys reads the file while elaborating, so in Bazel it must be an input
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
//
// Table mode (TABLE = 1): out[c] = TABLE_FILE word x[c], a constant table of 2^IN_BITS
// words of OUT_BITS indexed by the input's bit pattern (two's complement code for a
// signed input, the code for BIPOLAR), read from THRES_FILE instead of thresholds. The
// generator (qnn2fpga.layers.thresholding.Thresholding.table_words) computes word i as the
// output code of input code i from the same shared threshold row, so the table is the
// step function the comparators would give, ACT_VAL and BIPOLAR included. One table per
// lane, kept in logic; the same latency (stage 1 registers the input, stage 2 reads the
// table, stage 3 is the output register) and throughput. Needs SHARED = 1,
// RUNTIME_WRITEABLE = 0 and IN_BITS <= 12; N_THRES, THR_BITS and ACT_VAL then only
// document the table's origin.
//
// Structure: this module is the AXI adapter (stream flow control, the threshold memory
// with its AXI-lite write port: rtl/common/ram_sdp_axil.sv) around thresholding_core.sv
// (channel folds, comparisons and counts: rtl/common/threshold_compare.sv).
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
    parameter int TABLE              = 0,
    localparam int DEPTH             = (SHARED != 0) ? 1 : NUM_CHANNELS / PE,  // memory words
    localparam int TW                = PE * N_THRES * THR_BITS,  // memory word width
    // AXI-lite address bits of the threshold memory: clog2(DEPTH * STRIDE * 4), STRIDE =
    // ceil(TW / 32) rounded up to a power of two
    localparam int AXIL_ADDR_BITS    = $clog2(DEPTH * (2 ** $clog2((TW + 31) / 32)) * 4)
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
  localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;

  generate
    if (NUM_CHANNELS < 1 || PE < 1 || NUM_CHANNELS % PE != 0) begin : g_bad_fold
      $error("thresholding: PE must divide NUM_CHANNELS");
    end
    if (N_THRES < 1 || THR_BITS < 1 || IN_BITS < 1 || OUT_BITS < 1) begin : g_bad_width
      $error("thresholding: N_THRES, THR_BITS, IN_BITS and OUT_BITS must be positive");
    end
    if (TABLE != 0 && (SHARED == 0 || RUNTIME_WRITEABLE != 0 || IN_BITS > 12)) begin : g_bad_table
      $error("thresholding: TABLE needs SHARED = 1, RUNTIME_WRITEABLE = 0 and IN_BITS <= 12");
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

  // ---- stream flow control: one enable for the whole pipeline --------------------------
  logic out_valid;
  wire  ce = !out_valid || m_axis_tready;
  assign s_axis_tready = ce;
  assign m_axis_tvalid = out_valid;

  generate
    if (TABLE != 0) begin : g_table
      // ---- table mode: stage 1 input register, stage 2 table read, stage 3 output ----
      logic v1, v2;
      logic [PE*IN_BITS-1:0] x1;
      always_ff @(posedge clk) begin
        if (!rst_n) begin
          v1 <= 1'b0;
          v2 <= 1'b0;
          out_valid <= 1'b0;
        end else if (ce) begin
          v1 <= s_axis_tvalid;
          v2 <= v1;
          out_valid <= v2;
        end
      end
      always_ff @(posedge clk) if (ce) x1 <= s_axis_tdata;
      for (genvar p = 0; p < PE; p++) begin : g_lane
        logic [OUT_BITS-1:0] y;
        ram_sdp #(
            .WIDTH(OUT_BITS),
            .DEPTH(2 ** IN_BITS),
            .RAM_STYLE("distributed"),
            .INIT_FILE(THRES_FILE),
            .WRITEABLE(0)
        ) u_table (
            .clk(clk),
            .wr_en(1'b0),
            .wr_addr('0),
            .wr_data('0),
            .rd_en(ce),
            .rd_addr(x1[p*IN_BITS+:IN_BITS]),
            .rd_data(y)
        );
        always_ff @(posedge clk) if (ce) m_axis_tdata[p*OUT_BITS+:OUT_BITS] <= y;
      end
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
                              s_axilite_rready};
      /* verilator lint_on UNUSEDSIGNAL */
    end else begin : g_compare
      logic thr_rd_en;
      logic [AW-1:0] thr_rd_addr;
      logic [TW-1:0] thr_rd_data;

      thresholding_core #(
          .NUM_CHANNELS(NUM_CHANNELS),
          .PE(PE),
          .IN_BITS(IN_BITS),
          .IN_SIGNED(IN_SIGNED),
          .N_THRES(N_THRES),
          .THR_BITS(THR_BITS),
          .OUT_BITS(OUT_BITS),
          .ACT_VAL(ACT_VAL),
          .SHARED(SHARED)
      ) u_core (
          .clk(clk),
          .rst_n(rst_n),
          .ce(ce),
          .in_valid(s_axis_tvalid),
          .in_data(s_axis_tdata),
          .out_valid(out_valid),
          .out_data(m_axis_tdata),
          .thr_rd_en(thr_rd_en),
          .thr_rd_addr(thr_rd_addr),
          .thr_rd_data(thr_rd_data)
      );

      // ---- threshold memory: a ROM, or with RUNTIME_WRITEABLE a RAM written over AXI-lite ------
      // The style by the depth triggers; a single word ignores RAM_STYLE.
      /* verilator lint_off WIDTH */
      localparam STYLE = (DEPTH == 1) ? "auto" :
                         (RAM_STYLE != "auto") ? RAM_STYLE :
                         (DEPTH_TRIGGER_URAM > 0 && DEPTH >= DEPTH_TRIGGER_URAM) ? "ultra" :
                         (DEPTH >= DEPTH_TRIGGER_BRAM) ? "block" : "distributed";
      if (RAM_STYLE != "auto" && RAM_STYLE != "block" && RAM_STYLE != "distributed" && RAM_STYLE != "ultra")
      begin : g_bad_style
        $error("thresholding: RAM_STYLE must be auto, block, distributed or ultra");
      end
      if (STYLE == "ultra" && RUNTIME_WRITEABLE == 0) begin : g_ultra_rom
        $error("thresholding: URAM has no initial contents, so it cannot hold $readmemh thresholds; use RAM_STYLE block, DEPTH_TRIGGER_URAM = 0 or RUNTIME_WRITEABLE = 1");
      end
      /* verilator lint_on WIDTH */

      /* verilator lint_off UNUSEDSIGNAL */
      logic written;  // the memory is read per word: a write needs no further action
      /* verilator lint_on UNUSEDSIGNAL */
      ram_sdp_axil #(
          .WIDTH(TW),
          .DEPTH(DEPTH),
          .RAM_STYLE(STYLE),
          .INIT_FILE(THRES_FILE),
          .WRITEABLE(RUNTIME_WRITEABLE)
      ) u_thresholds (
          .clk(clk),
          .rst_n(rst_n),
          .rd_en(thr_rd_en),
          .rd_addr(thr_rd_addr),
          .rd_data(thr_rd_data),
          .written(written),
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
    end
  endgenerate
endmodule
