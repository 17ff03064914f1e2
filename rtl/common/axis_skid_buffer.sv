// AXI-stream skid buffer: registers data, valid and ready, so it breaks every
// combinational path between its two sides, and still moves one word per cycle.
// Holds at most two words (the output register and the skid register).
module axis_skid_buffer #(
    parameter int WIDTH = 8
) (
    input  logic             clk,
    input  logic             rst_n,
    input  logic [WIDTH-1:0] s_axis_tdata,
    input  logic             s_axis_tvalid,
    output logic             s_axis_tready,
    output logic [WIDTH-1:0] m_axis_tdata,
    output logic             m_axis_tvalid,
    input  logic             m_axis_tready
);
  logic [WIDTH-1:0] data_q, skid_q;
  logic valid_q, skid_valid_q;

  // The output register may load when it is empty or being emptied this cycle.
  wire out_load = m_axis_tready || !valid_q;

  assign s_axis_tready = !skid_valid_q;
  assign m_axis_tvalid = valid_q;
  assign m_axis_tdata  = data_q;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      valid_q      <= 1'b0;
      skid_valid_q <= 1'b0;
    end else if (out_load) begin
      if (skid_valid_q) begin
        valid_q      <= 1'b1;
        skid_valid_q <= 1'b0;
      end else begin
        valid_q <= s_axis_tvalid;
      end
    end else if (s_axis_tvalid && s_axis_tready) begin
      skid_valid_q <= 1'b1;
    end
  end

  // Data registers need no reset: they are only read while the matching valid is set.
  always_ff @(posedge clk) begin
    if (out_load) data_q <= skid_valid_q ? skid_q : s_axis_tdata;
    if (!out_load && s_axis_tvalid && s_axis_tready) skid_q <= s_axis_tdata;
  end
endmodule
