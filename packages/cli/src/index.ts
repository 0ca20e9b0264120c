export { runCli, buildProgram } from "./cli.js";
