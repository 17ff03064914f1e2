// DuplicateStreams: one AXI stream copied to two (the fork of a residual branch).
// Each word is offered on both outputs; an output that has taken it stops offering it,
// and the input advances once both have. An output may therefore run one word ahead of
// a stalled one, never more; one word per cycle when both outputs are ready.
module duplicate_streams #(
    parameter int WIDTH = 8
) (
    input  logic             clk,
    input  logic             rst_n,
    input  logic [WIDTH-1:0] s_axis_tdata,
    input  logic             s_axis_tvalid,
    output logic             s_axis_tready,
    output logic [WIDTH-1:0] m_axis_tdata,
    output logic             m_axis_tvalid,
    input  logic             m_axis_tready,
    output logic [WIDTH-1:0] m_axis_1_tdata,
    output logic             m_axis_1_tvalid,
    input  logic             m_axis_1_tready
);
  // taken_q[i]: output i has taken the current input word.
  logic [1:0] taken_q;
  wire take0 = m_axis_tvalid && m_axis_tready;
  wire take1 = m_axis_1_tvalid && m_axis_1_tready;
  wire done0 = taken_q[0] || take0;
  wire done1 = taken_q[1] || take1;

  assign m_axis_tdata    = s_axis_tdata;
  assign m_axis_1_tdata  = s_axis_tdata;
  assign m_axis_tvalid   = s_axis_tvalid && !taken_q[0];
  assign m_axis_1_tvalid = s_axis_tvalid && !taken_q[1];
  assign s_axis_tready   = done0 && done1;

  always_ff @(posedge clk) begin
    if (!rst_n || (s_axis_tvalid && s_axis_tready)) taken_q <= 2'b00;
    else taken_q <= {done1, done0};
  end
endmodule
