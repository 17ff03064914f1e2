// AddStreams: the elementwise sum of two AXI streams (the join of a residual branch).
// Each word holds PE elements of a (A_BITS each) and of b (B_BITS each, both <= 31), element 0 in
// the low bits; a kind is 0 unsigned, 1 signed (two's complement), 2 bipolar (one bit,
// 1 = +1, 0 = -1). The sums (OUT_BITS, two's complement) leave through a skid buffer:
// one word per cycle, one cycle of latency, no combinational path from m_axis_tready.
module add_streams #(
    parameter int PE = 1,
    parameter int A_BITS = 8,
    parameter int A_KIND = 1,
    parameter int B_BITS = 8,
    parameter int B_KIND = 1,
    parameter int OUT_BITS = 9
) (
    input  logic                   clk,
    input  logic                   rst_n,
    input  logic [PE*A_BITS-1:0]   s_axis_tdata,
    input  logic                   s_axis_tvalid,
    output logic                   s_axis_tready,
    input  logic [PE*B_BITS-1:0]   s_axis_1_tdata,
    input  logic                   s_axis_1_tvalid,
    output logic                   s_axis_1_tready,
    output logic [PE*OUT_BITS-1:0] m_axis_tdata,
    output logic                   m_axis_tvalid,
    input  logic                   m_axis_tready
);
  function automatic logic signed [OUT_BITS-1:0] value(input logic [31:0] raw, input int bits, input int kind);
    logic [31:0] v;
    if (kind == 2) return raw[0] ? OUT_BITS'(1) : -OUT_BITS'(1);
    v = raw & ((32'd1 << bits) - 1);
    if (kind == 1 && v[bits-1]) v = v | ~((32'd1 << bits) - 1);
    return OUT_BITS'(signed'(v));
  endfunction

  logic [PE*OUT_BITS-1:0] sum;
  always_comb begin
    for (int p = 0; p < PE; p++) begin
      sum[p*OUT_BITS+:OUT_BITS] = value(32'(s_axis_tdata[p*A_BITS+:A_BITS]), A_BITS, A_KIND) +
                                  value(32'(s_axis_1_tdata[p*B_BITS+:B_BITS]), B_BITS, B_KIND);
    end
  end

  // Both inputs move together, when the skid buffer takes their sum.
  logic join_ready;
  wire both = s_axis_tvalid && s_axis_1_tvalid;
  assign s_axis_tready   = join_ready && s_axis_1_tvalid;
  assign s_axis_1_tready = join_ready && s_axis_tvalid;

  axis_skid_buffer #(.WIDTH(PE*OUT_BITS)) out_reg (
      .clk(clk), .rst_n(rst_n),
      .s_axis_tdata(sum), .s_axis_tvalid(both), .s_axis_tready(join_ready),
      .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready));
endmodule
