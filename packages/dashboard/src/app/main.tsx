// The dashboard page's entry point (bundled by ../../build-page.mjs).
import "./styles.css";
import { render } from "preact";
import { App } from "./app.js";
import { startLive } from "./live.js";
import { model } from "./state.js";

startLive(model);
render(<App />, document.getElementById("app")!);
