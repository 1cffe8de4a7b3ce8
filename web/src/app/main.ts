import "./style.css";
import { api } from "./api.ts";
import { startApp } from "./shell.ts";

const root = document.getElementById("app");
if (root !== null) startApp(root, api);
