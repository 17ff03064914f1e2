// Multi-threshold activation pipeline of thresholding.sv (formats and semantics there),
// without its stream handshakes or its threshold memory: one word of PE inputs per cycle
// in which `ce` is high, three stages, all moving together on `ce`:
//   stage 1  register the input word; read the thresholds of its channel fold cf
//            (thr_rd_en = ce, thr_rd_addr = cf; thr_rd_data is expected the next cycle,
//            as a synchronous memory read gives it)
//   stage 2  compare every input with its N_THRES thresholds (threshold_compare)
//   stage 3  count the thresholds reached, add ACT_VAL: out_data, out_valid
// in_valid marks the words that count: out_valid is in_valid three `ce` cycles later, and
// the channel-fold counter advances on valid words only (wrapping every DEPTH words).
// SHARED: one threshold row (lane 0 of the single memory word) for every channel.
module thresholding_core #(
    parameter int NUM_CHANNELS = 4,
    parameter int PE           = 1,
    parameter int IN_BITS      = 8,
    parameter int IN_SIGNED    = 1,
    parameter int N_THRES      = 3,
    parameter int THR_BITS     = 9,
    parameter int OUT_BITS     = 2,
    parameter int ACT_VAL      = 0,
    parameter int SHARED       = 0,
    localparam int DEPTH       = (SHARED != 0) ? 1 : NUM_CHANNELS / PE,  // memory words
    localparam int TW          = PE * N_THRES * THR_BITS,  // memory word width
    localparam int AW          = (DEPTH > 1) ? $clog2(DEPTH) : 1
) (
    input  logic                   clk,
    input  logic                   rst_n,
    input  logic                   ce,
    input  logic                   in_valid,
    input  logic [ PE*IN_BITS-1:0] in_data,
    output logic                   out_valid,
    output logic [PE*OUT_BITS-1:0] out_data,
    output logic                   thr_rd_en,
    output logic [         AW-1:0] thr_rd_addr,
    /* verilator lint_off UNUSEDSIGNAL */
    input  logic [         TW-1:0] thr_rd_data  // SHARED: lane 0 only is read
    /* verilator lint_on UNUSEDSIGNAL */
);
  logic v1, v2, v3;  // stage valids: threshold read, comparisons, counts (= output)
  logic [AW-1:0] cf;
  logic [PE*IN_BITS-1:0] x1;

  assign out_valid = v3;
  assign thr_rd_en = ce;
  assign thr_rd_addr = cf;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      cf <= '0;
      v1 <= 1'b0;
      v2 <= 1'b0;
      v3 <= 1'b0;
    end else if (ce) begin
      v1 <= in_valid;
      v2 <= v1;
      v3 <= v2;
      if (in_valid && DEPTH > 1) cf <= (cf == AW'(DEPTH - 1)) ? '0 : cf + 1'b1;
    end
  end
  always_ff @(posedge clk) if (ce) x1 <= in_data;

  for (genvar p = 0; p < PE; p++) begin : g_pe
    // SHARED: lane 0 holds the row of every channel.
    localparam int LANE = (SHARED != 0) ? 0 : p;
    logic [OUT_BITS-1:0] y;
    threshold_compare #(
        .IN_BITS(IN_BITS),
        .IN_SIGNED(IN_SIGNED),
        .N_THRES(N_THRES),
        .THR_BITS(THR_BITS),
        .OUT_BITS(OUT_BITS),
        .ACT_VAL(ACT_VAL)
    ) u_cmp (
        .clk(clk),
        .en(ce),
        .x(x1[p*IN_BITS+:IN_BITS]),
        .thr(thr_rd_data[LANE*N_THRES*THR_BITS+:N_THRES*THR_BITS]),
        .y(y)
    );
    always_ff @(posedge clk) if (ce) out_data[p*OUT_BITS+:OUT_BITS] <= y;
  end
endmodule
