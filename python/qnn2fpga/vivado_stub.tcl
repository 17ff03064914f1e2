# A stand-in for the Vivado Tcl commands that make_project.tcl uses, for
# vivado_tcl_structure_test.py: tclsh sources this file, then make_project.tcl.
#
# Every stubbed call is appended to $env(QNN_STUB_LOG) as one JSON line
# {"cmd": NAME, "args": [...]} (set_property -dict also as "props": {...}). Getters return
# the names they are given, so the log shows which pins and cells the script names. Any
# other command (a typo in the template, a command this stub does not know) stops tclsh
# with exit status 3. The runs "produce" the files make_project.tcl copies, under
# $env(QNN_STUB_DIR), and the reports minimal tables. QNN_STUB_NO_BOARD_PARTS=1: no board
# files are installed.

set ::stub_log [open $::env(QNN_STUB_LOG) w]
set ::stub_dir $::env(QNN_STUB_DIR)
set ::stub_bd ""

proc stub_json {s} {
    return "\"[string map [list \\ \\\\ \" \\\" \n \\n \r \\r \t \\t] $s]\""
}

proc stub_record {cmd argv {extra ""}} {
    set items {}
    foreach a $argv { lappend items [stub_json $a] }
    puts $::stub_log "{\"cmd\": [stub_json $cmd], \"args\": \[[join $items {, }]\]$extra}"
    flush $::stub_log
}

# stub NAME BODY: defines NAME to record its call, then run BODY (its result is returned).
proc stub {name body} {
    proc $name args "stub_record [list $name] \$args\n$body"
}

rename unknown stub_tcl_unknown
proc unknown args {
    puts stderr "vivado stub: unknown command: [lindex $args 0] (not a Vivado command this stub knows)"
    exit 3
}

# --- project and sources
stub create_project {return [lindex $args 0]}
stub current_project {return stub_project}
stub current_fileset {return sources_1}
stub add_files {return [lindex $args end]}
stub update_compile_order {return ""}
stub get_board_parts {
    if {[info exists ::env(QNN_STUB_NO_BOARD_PARTS)]} { return "" }
    return [list stub.com:board:part0:1.0]
}

# set_property: -dict pairs also recorded as "props".
proc set_property args {
    set extra ""
    if {[lindex $args 0] eq "-dict"} {
        set props {}
        foreach {k v} [lindex $args 1] { lappend props "[stub_json $k]: [stub_json $v]" }
        set extra ", \"props\": {[join $props {, }]}"
    }
    stub_record set_property $args $extra
    return ""
}

# --- block design
stub create_bd_design {set ::stub_bd [lindex $args 0]; return $::stub_bd}
stub create_bd_cell {return [lindex $args end]}
stub apply_bd_automation {return ""}
stub make_bd_intf_pins_external {return ""}
stub get_bd_cells {return $args}
stub get_bd_pins {return $args}
stub get_bd_intf_pins {return $args}
stub get_bd_addr_spaces {return $args}
stub get_bd_addr_segs {return $args}
stub connect_bd_net {return ""}
stub connect_bd_intf_net {return ""}
stub assign_bd_address {return ""}
stub validate_bd_design {return ""}
stub save_bd_design {return ""}
stub generate_target {return ""}
stub make_wrapper {return [file join $::stub_dir ${::stub_bd}_wrapper.v]}

# get_files -all -of_objects BD PATTERN: a file the "generated" block design holds.
stub get_files {
    set name [lindex $args end]
    if {[lsearch -exact $args -of_objects] < 0} { return $name }
    set path [file join $::stub_dir $name]
    close [open $path w]
    return [list $path]
}

# --- runs
stub get_runs {return [lindex $args 0]}
stub launch_runs {
    set run [lindex $args 0]
    file mkdir [file join $::stub_dir $run]
    if {[lsearch -exact $args write_bitstream] >= 0} {
        close [open [file join $::stub_dir $run ${::stub_bd}_wrapper.bit] w]
    }
    return $run
}
stub wait_on_run {return ""}
stub get_property {
    set run [lindex $args 1]
    switch -- [lindex $args 0] {
        PROGRESS { return "100%" }
        DIRECTORY { return [file join $::stub_dir $run] }
        default { puts stderr "vivado stub: get_property [lindex $args 0] is not stubbed"; exit 3 }
    }
}
stub open_run {return [lindex $args 0]}
stub close_design {return ""}
# The reports: minimal tables in Vivado's layout (made-up numbers), for parse_reports.
stub report_utilization {
    set f [open [lindex $args [expr {[lsearch -exact $args -file] + 1}]] w]
    puts $f "| Site Type       | Used | Fixed | Available | Util% |"
    puts $f "| Slice LUTs*     | 1000 |     0 |     53200 |  1.88 |"
    puts $f "| Slice Registers | 2000 |     0 |    106400 |  1.88 |"
    puts $f "| Block RAM Tile  |  1.5 |     0 |       140 |  1.07 |"
    puts $f "| DSPs            |    0 |     0 |       220 |  0.00 |"
    close $f
}
stub report_timing_summary {
    set f [open [lindex $args [expr {[lsearch -exact $args -file] + 1}]] w]
    puts $f "    WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints      WHS(ns)      THS(ns)  THS Failing Endpoints  THS Total Endpoints"
    puts $f "    -------      -------  ---------------------  -------------------      -------      -------  ---------------------  -------------------"
    puts $f "      1.500        0.000                      0                  100        0.050        0.000                      0                  100"
    close $f
}
