// Read-only memory initialized from a $readmemh file (one hex word per line, no address
// markers), with a synchronous read port. RAM_STYLE selects the primitive the same way
// rtl/common/ram_sdp does: "auto" (tool's choice), "block" (BRAM), "distributed"
// (LUTs) or "ultra" (URAM, UltraScale+ only; URAM has no initial contents, so mvau
// refuses it for weight files). The attribute must be a literal, hence one generate
// branch per style; rom_style is set too, the attribute Vivado reads for ROMs.
//
// An empty INIT_FILE leaves the memory uninitialized: the default, because Yosys
// elaborates every module with its default parameters while reading it (mvau checks that
// its memory modes get files).
//
// This module is the only place in rtl/mvau that reads a memory file: Yosys resolves a
// relative INIT_FILE against its working directory, then against the directory of the
// source file holding the $readmemh, so a build that wants bare file names places a copy
// of this file next to the .hex files (see mem_init.bzl); Verilator resolves INIT_FILE
// against the simulator's working directory at run time.
module mvau_rom #(
    parameter int WIDTH     = 8,
    parameter int DEPTH     = 16,
    parameter INIT_FILE = "",
    parameter RAM_STYLE = "auto",
    parameter int AW        = (DEPTH > 1) ? $clog2(DEPTH) : 1  // derived; do not set
) (
    input  logic             clk,
    input  logic             rd_en,
    input  logic [   AW-1:0] rd_addr,
    output logic [WIDTH-1:0] rd_data
);
  /* verilator lint_off WIDTH */
  generate
    if (RAM_STYLE == "block") begin : g_block
      (* ram_style = "block", rom_style = "block" *) logic [WIDTH-1:0] mem[DEPTH];
      if (INIT_FILE != "") begin : g_init
        initial $readmemh(INIT_FILE, mem);
      end
      always_ff @(posedge clk) if (rd_en) rd_data <= mem[rd_addr];
    end else if (RAM_STYLE == "distributed") begin : g_distributed
`ifdef YOSYS
      // Yosys 0.23 maps no ROM to LUTRAM (its LUTRAM libraries "prune_rom") and fails on
      // "distributed"; a ROM in LUT logic is what a distributed ROM is anyway.
      (* rom_style = "logic" *) logic [WIDTH-1:0] mem[DEPTH];
`else
      (* ram_style = "distributed", rom_style = "distributed" *) logic [WIDTH-1:0] mem[DEPTH];
`endif
      if (INIT_FILE != "") begin : g_init
        initial $readmemh(INIT_FILE, mem);
      end
      always_ff @(posedge clk) if (rd_en) rd_data <= mem[rd_addr];
    end else if (RAM_STYLE == "ultra") begin : g_ultra
      (* ram_style = "ultra", rom_style = "ultra" *) logic [WIDTH-1:0] mem[DEPTH];
      if (INIT_FILE != "") begin : g_init
        initial $readmemh(INIT_FILE, mem);
      end
      always_ff @(posedge clk) if (rd_en) rd_data <= mem[rd_addr];
    end else if (RAM_STYLE == "auto") begin : g_auto
      logic [WIDTH-1:0] mem[DEPTH];
      if (INIT_FILE != "") begin : g_init
        initial $readmemh(INIT_FILE, mem);
      end
      always_ff @(posedge clk) if (rd_en) rd_data <= mem[rd_addr];
    end else begin : g_bad_style
      $error("mvau_rom: RAM_STYLE must be auto, block, distributed or ultra");
    end
  endgenerate
  /* verilator lint_on WIDTH */
endmodule
