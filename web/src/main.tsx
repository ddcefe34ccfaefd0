import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { session } from "./api/client";
import { App } from "./App";
import "./styles.css";

// A session kept from an earlier visit is restored while the app renders.
void session.restore();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
