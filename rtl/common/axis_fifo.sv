// AXI-stream FIFO with the implementation picked by IMPL: "srl" (shift register),
// "ram" (RAM_STYLE-selectable memory), or "auto" (srl up to SRL_MAX_DEPTH words).
module axis_fifo #(
    parameter int    WIDTH         = 8,
    parameter int    DEPTH         = 16,
    parameter IMPL          = "auto",
    parameter RAM_STYLE     = "auto",
    parameter int    SRL_MAX_DEPTH = 64
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
  /* verilator lint_off WIDTH */
  localparam bit USE_SRL = (IMPL == "srl") || (IMPL == "auto" && (DEPTH <= SRL_MAX_DEPTH || DEPTH < 2));

  generate
    if (IMPL != "srl" && IMPL != "ram" && IMPL != "auto") begin : g_bad_impl
      $error("axis_fifo: IMPL must be auto, srl or ram");
    end else if (USE_SRL) begin : g_srl
      axis_fifo_srl #(
          .WIDTH(WIDTH),
          .DEPTH(DEPTH)
      ) u_fifo (.*);
    end else begin : g_ram
      axis_fifo_ram #(
          .WIDTH(WIDTH),
          .DEPTH(DEPTH),
          .RAM_STYLE(RAM_STYLE)
      ) u_fifo (.*);
    end
  endgenerate
  /* verilator lint_on WIDTH */
endmodule
