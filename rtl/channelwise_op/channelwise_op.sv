// ChannelwiseOp: out[c] = x[c] + p[c] (FUNC = 0), x[c] * p[c] (FUNC = 1), x[c] <= p[c]
// (FUNC = 2) or x[c] >= p[c] (FUNC = 3; a comparison gives 1 or 0) on an AXI stream of a
// channels-last tensor, PE channels per word (element 0 in the low bits), the
// NUM_CHANNELS / PE words of a pixel in channel order, pixel after pixel.
//
// Parameter word g (PARAM_FILE, ram_sdp) holds p[g*PE + pe] in field pe (P_BITS each).
// Element kinds: 0 unsigned, 1 signed (two's complement), 2 bipolar (one bit, 1 = +1,
// 0 = -1). The results are OUT_BITS wide; sums and products are computed modulo
// 2^OUT_BITS, which is exact because every result fits OUT_BITS (the layer checks the
// output datatype); comparisons take both operands at full width.
//
// Schedule: the memory reads the word of the group of the input word at the head of the
// stream one cycle ahead (the next group's word as a word is taken), so one word per
// cycle; the result leaves through a skid buffer (latency 1). After reset the input is
// refused for one cycle, while the first group's word is read.
module channelwise_op #(
    parameter int NUM_CHANNELS = 8,   // channels per pixel
    parameter int PE = 1,             // channels per word; divides NUM_CHANNELS
    parameter int FUNC = 0,           // 0 add, 1 multiply, 2 less or equal, 3 greater or equal
    parameter int IN_BITS = 4,        // bits per input element
    parameter int IN_KIND = 1,        // input kind (0 unsigned, 1 signed, 2 bipolar)
    parameter int P_BITS = 4,         // bits per parameter
    parameter int P_KIND = 1,         // parameter kind (0 unsigned, 1 signed, 2 bipolar)
    parameter int OUT_BITS = 8,       // bits per output element
    parameter RAM_STYLE = "distributed",
    parameter PARAM_FILE = ""
) (
    input  logic                   clk,
    input  logic                   rst_n,
    input  logic [PE*IN_BITS-1:0]  s_axis_tdata,
    input  logic                   s_axis_tvalid,
    output logic                   s_axis_tready,
    output logic [PE*OUT_BITS-1:0] m_axis_tdata,
    output logic                   m_axis_tvalid,
    input  logic                   m_axis_tready
);
  localparam int NF = NUM_CHANNELS / PE;          // parameter words (channel groups)
  localparam int GW = (NF > 1) ? $clog2(NF) : 1;  // group counter width

  initial begin
    if (NUM_CHANNELS % PE != 0) $error("channelwise_op: PE=%0d does not divide NUM_CHANNELS=%0d", PE, NUM_CHANNELS);
    if (FUNC < 0 || FUNC > 3) $error("channelwise_op: FUNC=%0d is not 0 (add), 1 (mul), 2 (cmp_le) or 3 (cmp_ge)", FUNC);
  end

  // An element as a 64-bit two's complement value (every element kind fits: at most 63 bits).
  function automatic logic [63:0] full(input logic [63:0] raw, input int bits, input int kind);
    logic [63:0] v;
    v = raw & ((64'd1 << bits) - 64'd1);
    if (kind == 1 && v[bits-1]) v = v | ~((64'd1 << bits) - 64'd1);
    if (kind == 2) v = raw[0] ? 64'd1 : ~64'd0;
    full = v;
  endfunction

  // The same modulo 2^OUT_BITS.
  function automatic logic [OUT_BITS-1:0] value(input logic [63:0] raw, input int bits, input int kind);
    value = OUT_BITS'(full(raw, bits, kind));
  endfunction

  // --- the group of the word at the head, and the parameter word read for it ---
  logic [GW-1:0] group;
  logic primed;
  wire take = s_axis_tvalid && s_axis_tready;
  wire [GW-1:0] next_group = (NF == 1 || group == GW'(NF - 1)) ? '0 : group + 1'b1;
  logic [PE*P_BITS-1:0] p_word;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      group <= '0;
      primed <= 1'b0;
    end else begin
      primed <= 1'b1;
      if (take) group <= next_group;
    end
  end

  ram_sdp #(
      .WIDTH(PE * P_BITS), .DEPTH(NF), .RAM_STYLE(RAM_STYLE), .INIT_FILE(PARAM_FILE), .WRITEABLE(0)
  ) params (
      .clk(clk), .wr_en(1'b0), .wr_addr('0), .wr_data('0),
      .rd_en(1'b1), .rd_addr(take ? next_group : group), .rd_data(p_word));

  // --- the operation, PE lanes ---
  logic [PE*OUT_BITS-1:0] result;
  for (genvar p = 0; p < PE; p++) begin : g_lane
    if (FUNC >= 2) begin : g_compare
      wire signed [63:0] xf = full(64'(s_axis_tdata[p*IN_BITS+:IN_BITS]), IN_BITS, IN_KIND);
      wire signed [63:0] wf = full(64'(p_word[p*P_BITS+:P_BITS]), P_BITS, P_KIND);
      assign result[p*OUT_BITS+:OUT_BITS] = (FUNC == 2) ? OUT_BITS'(xf <= wf) : OUT_BITS'(xf >= wf);
    end else begin : g_arith
      wire [OUT_BITS-1:0] x = value(64'(s_axis_tdata[p*IN_BITS+:IN_BITS]), IN_BITS, IN_KIND);
      wire [OUT_BITS-1:0] w = value(64'(p_word[p*P_BITS+:P_BITS]), P_BITS, P_KIND);
      assign result[p*OUT_BITS+:OUT_BITS] = (FUNC == 1) ? OUT_BITS'(x * w) : OUT_BITS'(x + w);
    end
  end

  logic out_ready;
  assign s_axis_tready = primed && out_ready;

  axis_skid_buffer #(.WIDTH(PE*OUT_BITS)) out_reg (
      .clk(clk), .rst_n(rst_n),
      .s_axis_tdata(result), .s_axis_tvalid(s_axis_tvalid && primed), .s_axis_tready(out_ready),
      .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready));
endmodule
