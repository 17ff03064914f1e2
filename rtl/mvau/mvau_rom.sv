// Weight/threshold memory initialized from a $readmemh file (one hex word per line, no
// address markers), with a synchronous read port and, with WRITEABLE = 1, a write port
// (runtime-writable weights, fed by rtl/common/axil_mem_write). With WRITEABLE = 0 it is
// a ROM and wr_* are ignored. RAM_STYLE selects the primitive the same way
// rtl/common/ram_sdp does: "auto" (tool's choice), "block" (BRAM), "distributed" (LUTs)
// or "ultra" (URAM, UltraScale+ only). URAM has no initial contents, so "ultra" ignores
// INIT_FILE: its words are undefined until written (mvau allows it only with a write
// port). The attribute must be a literal, hence one generate branch per style; rom_style
// is set too, the attribute Vivado reads for ROMs.
//
// A write and a read of the same word in the same cycle read the old word.
//
// An empty INIT_FILE leaves the memory uninitialized: the default, because Yosys
// elaborates every module with its default parameters while reading it (mvau checks that
// its memory modes get files).
//
// This module is the only place in rtl/mvau that reads a memory file: Yosys resolves a
// relative INIT_FILE against its working directory, then against the directory of the
// source file holding the $readmemh, so a build that wants bare file names places a copy
// of this file next to the .hex files (rom_with_init_files in defs.bzl); Verilator
// resolves INIT_FILE against the simulator's working directory at run time.
module mvau_rom #(
    parameter int WIDTH     = 8,
    parameter int DEPTH     = 16,
    parameter INIT_FILE = "",
    parameter RAM_STYLE = "auto",
    parameter int WRITEABLE = 0,
    parameter int AW        = (DEPTH > 1) ? $clog2(DEPTH) : 1  // derived; do not set
) (
    input  logic             clk,
    input  logic             rd_en,
    input  logic [   AW-1:0] rd_addr,
    output logic [WIDTH-1:0] rd_data,
    input  logic             wr_en,
    input  logic [   AW-1:0] wr_addr,
    input  logic [WIDTH-1:0] wr_data
);
  // The write port is a separate process in each branch, present only when WRITEABLE, so
  // a ROM stays a ROM for synthesis whatever its write inputs are tied to.
  /* verilator lint_off WIDTH */
  generate
    if (RAM_STYLE == "block") begin : g_block
      (* ram_style = "block", rom_style = "block" *) logic [WIDTH-1:0] mem[DEPTH];
      if (INIT_FILE != "") begin : g_init
        initial $readmemh(INIT_FILE, mem);
      end
      always_ff @(posedge clk) if (rd_en) rd_data <= mem[rd_addr];
      if (WRITEABLE != 0) begin : g_write
        always_ff @(posedge clk) if (wr_en) mem[wr_addr] <= wr_data;
      end
    end else if (RAM_STYLE == "distributed" && WRITEABLE != 0) begin : g_distributed_ram
      (* ram_style = "distributed" *) logic [WIDTH-1:0] mem[DEPTH];
      if (INIT_FILE != "") begin : g_init
        initial $readmemh(INIT_FILE, mem);
      end
      always_ff @(posedge clk) if (rd_en) rd_data <= mem[rd_addr];
      always_ff @(posedge clk) if (wr_en) mem[wr_addr] <= wr_data;
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
      always_ff @(posedge clk) if (rd_en) rd_data <= mem[rd_addr];
      if (WRITEABLE != 0) begin : g_write
        always_ff @(posedge clk) if (wr_en) mem[wr_addr] <= wr_data;
      end
    end else if (RAM_STYLE == "auto") begin : g_auto
      logic [WIDTH-1:0] mem[DEPTH];
      if (INIT_FILE != "") begin : g_init
        initial $readmemh(INIT_FILE, mem);
      end
      always_ff @(posedge clk) if (rd_en) rd_data <= mem[rd_addr];
      if (WRITEABLE != 0) begin : g_write
        always_ff @(posedge clk) if (wr_en) mem[wr_addr] <= wr_data;
      end
    end else begin : g_bad_style
      $error("mvau_rom: RAM_STYLE must be auto, block, distributed or ultra");
    end
    if (WRITEABLE == 0) begin : g_rom
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_wr = ^{wr_en, wr_addr, wr_data};
      /* verilator lint_on UNUSEDSIGNAL */
    end
  endgenerate
  /* verilator lint_on WIDTH */
endmodule
