// Entry point: makes sure the local Docker daemon has the base image (busybox-static imported as
// shoal-base:1) that the README's examples and the tests run. scripts/setup.sh runs it.
import { BASE_IMAGE, ensureBaseImage } from "./image.js";

await ensureBaseImage(undefined, BASE_IMAGE);
console.log(BASE_IMAGE);
