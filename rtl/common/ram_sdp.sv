// Simple dual-port RAM (one write port, one synchronous read port, one clock) whose
// implementation primitive is chosen by RAM_STYLE: "auto" leaves it to the synthesis
// tool, "block" (BRAM), "distributed" (LUTRAM) or "ultra" (URAM, UltraScale+ only).
module ram_sdp #(
    parameter int    WIDTH     = 8,
    parameter int    DEPTH     = 512,
    parameter RAM_STYLE = "auto",
    parameter int    AW        = (DEPTH > 1) ? $clog2(DEPTH) : 1  // derived; do not set
) (
    input  logic                     clk,
    input  logic                     wr_en,
    input  logic [AW-1:0]           wr_addr,
    input  logic [WIDTH-1:0]         wr_data,
    input  logic                     rd_en,
    input  logic [AW-1:0]           rd_addr,
    output logic [WIDTH-1:0]         rd_data
);
  // One branch per style: synthesis attributes must be literal constants.
  // (RAM_STYLE is an untyped parameter for Yosys; its width follows the string.)
  /* verilator lint_off WIDTH */
  generate
    if (RAM_STYLE == "block") begin : g_block
      (* ram_style = "block" *) logic [WIDTH-1:0] mem[DEPTH];
      always_ff @(posedge clk) begin
        if (wr_en) mem[wr_addr] <= wr_data;
        if (rd_en) rd_data <= mem[rd_addr];
      end
    end else if (RAM_STYLE == "distributed") begin : g_distributed
      (* ram_style = "distributed" *) logic [WIDTH-1:0] mem[DEPTH];
      always_ff @(posedge clk) begin
        if (wr_en) mem[wr_addr] <= wr_data;
        if (rd_en) rd_data <= mem[rd_addr];
      end
    end else if (RAM_STYLE == "ultra") begin : g_ultra
      (* ram_style = "ultra" *) logic [WIDTH-1:0] mem[DEPTH];
      always_ff @(posedge clk) begin
        if (wr_en) mem[wr_addr] <= wr_data;
        if (rd_en) rd_data <= mem[rd_addr];
      end
    end else if (RAM_STYLE == "auto") begin : g_auto
      logic [WIDTH-1:0] mem[DEPTH];
      always_ff @(posedge clk) begin
        if (wr_en) mem[wr_addr] <= wr_data;
        if (rd_en) rd_data <= mem[rd_addr];
      end
    end else begin : g_bad_style
      $error("ram_sdp: RAM_STYLE must be auto, block, distributed or ultra");
    end
  endgenerate
  /* verilator lint_on WIDTH */
endmodule
