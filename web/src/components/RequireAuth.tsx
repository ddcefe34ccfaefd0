import { Navigate, Outlet, useLocation } from "react-router";
import { useSession } from "../hooks/useSession";
import { Spinner } from "./Spinner";

/** Its routes need a session: waits for a stored one to be restored, else goes to sign-in. */
export function RequireAuth() {
  const { status } = useSession();
  const location = useLocation();
  if (status === "restoring") return <Spinner label="Restoring your session…" block />;
  if (status === "signed-out") return <Navigate to="/sign-in" replace state={{ from: location.pathname }} />;
  return <Outlet />;
}
