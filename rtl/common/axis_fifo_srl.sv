// AXI-stream FIFO on shift registers (maps to SRL16E/SRLC32E): for small depths.
// Words enter at position 0 and shift up; the oldest sits at count-1 and drives the
// output through a variable tap. Accepts exactly DEPTH words. With DEPTH = 1 it moves
// one word every other cycle (ready is not combinationally tied to the output side).
module axis_fifo_srl #(
    parameter int WIDTH = 8,
    parameter int DEPTH = 16
) (
    input  logic                       clk,
    input  logic                       rst_n,
    input  logic [WIDTH-1:0]           s_axis_tdata,
    input  logic                       s_axis_tvalid,
    output logic                       s_axis_tready,
    output logic [WIDTH-1:0]           m_axis_tdata,
    output logic                       m_axis_tvalid,
    input  logic                       m_axis_tready,
    output logic [$clog2(DEPTH+1)-1:0] count
);
  localparam int CW = $clog2(DEPTH + 1);
  localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;

  generate
    if (DEPTH < 1) begin : g_bad_depth
      $error("axis_fifo_srl: DEPTH must be at least 1");
    end
  endgenerate

  wire push = s_axis_tvalid && s_axis_tready;
  wire pop  = m_axis_tvalid && m_axis_tready;

  assign s_axis_tready = count < CW'(DEPTH);
  assign m_axis_tvalid = count != '0;

  // Tap of the oldest word; wraps to DEPTH-1 when empty, where the data is unused.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [CW-1:0] last = count - 1'b1;  // the top bit only matters when DEPTH = 2**k
  /* verilator lint_on UNUSEDSIGNAL */

  // One shift chain per data bit, read at a variable tap: the shape that synthesis
  // maps to SRLs (a memory-like array would become flip-flops and multiplexers).
  for (genvar b = 0; b < WIDTH; b++) begin : g_lane
    logic [DEPTH-1:0] lane;
    if (DEPTH == 1) begin : g_one
      always_ff @(posedge clk) if (push) lane <= s_axis_tdata[b];
    end else begin : g_chain
      always_ff @(posedge clk) if (push) lane <= {lane[DEPTH-2:0], s_axis_tdata[b]};
    end
    assign m_axis_tdata[b] = lane[last[AW-1:0]];
  end

  always_ff @(posedge clk) begin
    if (!rst_n) count <= '0;
    else if (push && !pop) count <= count + 1'b1;
    else if (pop && !push) count <= count - 1'b1;
  end
endmodule
