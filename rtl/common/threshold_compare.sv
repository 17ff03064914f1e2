// Multi-threshold activation of one value: compare x with a row of N_THRES thresholds and
// count the ones reached,
//   y = ACT_VAL + #{t : x >= thr[t]}   (OUT_BITS wide, modulo 2^OUT_BITS)
// x: IN_BITS, two's complement if IN_SIGNED, else unsigned; thr[t] = thr[t*THR_BITS +:
// THR_BITS], two's complement. The count is over all N_THRES thresholds, so it does not rely
// on the row being sorted. A one-threshold row with ACT_VAL = 0 and OUT_BITS = 1 gives the
// bipolar output (1 = +1: x >= thr[0]).
//
// Timing: the comparisons are registered in every cycle with `en`; y is combinational from
// those registers, so it belongs to the x and thr of the last cycle `en` was high.
// Used by the MVAU (on its accumulators) and by the standalone thresholding layer.
module threshold_compare #(
    parameter int IN_BITS   = 8,
    parameter int IN_SIGNED = 1,
    parameter int N_THRES   = 1,
    parameter int THR_BITS  = 9,
    parameter int OUT_BITS  = 1,
    parameter int ACT_VAL   = 0
) (
    input  logic                         clk,
    input  logic                         en,
    input  logic [          IN_BITS-1:0] x,
    input  logic [ N_THRES*THR_BITS-1:0] thr,
    output logic [         OUT_BITS-1:0] y
);
  // Comparison width: both operands sign-extended; an unsigned x gets a zero sign bit.
  localparam int XW = IN_BITS + ((IN_SIGNED != 0) ? 0 : 1);
  localparam int CW = (XW > THR_BITS) ? XW : THR_BITS;

  logic signed [CW-1:0] xe;
  generate
    if (IN_SIGNED != 0) begin : g_signed
      assign xe = CW'($signed(x));
    end else begin : g_unsigned
      assign xe = $signed(CW'(x));
    end
  endgenerate

  logic [N_THRES-1:0] ge;  // bit t: x >= thr[t]
  for (genvar t = 0; t < N_THRES; t++) begin : g_thr
    wire signed [CW-1:0] te = CW'($signed(thr[t*THR_BITS+:THR_BITS]));
    always_ff @(posedge clk) if (en) ge[t] <= (xe >= te);
  end

  // ACT_VAL + the number of thresholds reached, truncated to OUT_BITS.
  /* verilator lint_off UNUSEDSIGNAL */
  logic [31:0] val;
  /* verilator lint_on UNUSEDSIGNAL */
  always_comb begin
    val = ACT_VAL;
    for (int t = 0; t < N_THRES; t++) val = val + 32'(ge[t]);
  end
  assign y = val[OUT_BITS-1:0];
endmodule
