import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { BrowserRouter, Route, Routes } from "react-router";
import { session } from "./api/client";
import { ApiError } from "./api/errors";
import { Layout } from "./components/Layout";
import { RequireAuth } from "./components/RequireAuth";
import { AuthPage } from "./pages/AuthPage";
import { GalleryPage } from "./pages/GalleryPage";
import { ImagePage } from "./pages/ImagePage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { PresetsPage } from "./pages/PresetsPage";
import { UploadsProvider } from "./uploads/UploadsProvider";

function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        // Only what may pass is retried: never a 4xx.
        retry: (failures, error) => error instanceof ApiError && error.isTransient && failures < 2,
      },
      mutations: { retry: false },
    },
  });
}

export function App() {
  const [queryClient] = useState(createQueryClient);

  // Whatever was cached belongs to the user who signed out.
  useEffect(
    () =>
      session.subscribe(() => {
        if (session.getSnapshot().status === "signed-out") queryClient.clear();
      }),
    [queryClient],
  );

  return (
    <QueryClientProvider client={queryClient}>
      <UploadsProvider>
        <BrowserRouter>
          <Routes>
            <Route element={<Layout />}>
              <Route path="/sign-in" element={<AuthPage key="sign-in" mode="sign-in" />} />
              <Route path="/sign-up" element={<AuthPage key="sign-up" mode="sign-up" />} />
              <Route element={<RequireAuth />}>
                <Route index element={<GalleryPage />} />
                <Route path="/images/:id" element={<ImagePage />} />
                <Route path="/presets" element={<PresetsPage />} />
              </Route>
              <Route path="*" element={<NotFoundPage />} />
            </Route>
          </Routes>
        </BrowserRouter>
      </UploadsProvider>
    </QueryClientProvider>
  );
}
